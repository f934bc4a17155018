using KustomerSync.Emulator;
using KustomerSync.Emulator.Hosting;

// Process entry point: parse options (exit 2 on a bad option), start, print one line, run until stopped.
EmulatorOptions? options;
try
{
    options = OptionsParser.Parse(args);
}
catch (OptionsException e)
{
    Console.Error.WriteLine($"kustomer-emulator: {e.Message}");
    return 2;
}
if (options is null)
{
    Console.WriteLine(OptionsParser.Usage());
    return 0;
}
if (string.IsNullOrEmpty(options.Urls) && options.Port == 0) options.Urls = "http://127.0.0.1:5123";

EmulatorServer server;
try
{
    server = await EmulatorServer.StartAsync(options, processMode: true, CancellationToken.None);
}
catch (OptionsException e)
{
    Console.Error.WriteLine($"kustomer-emulator: {e.Message}");
    return 2;
}
catch (IOException e)
{
    Console.Error.WriteLine($"kustomer-emulator: cannot listen: {e.Message}");
    return 1;
}

await using (server)
{
    Console.WriteLine(StartupBanner.Text(server));
    await server.WaitForShutdownAsync();
}
return 0;
