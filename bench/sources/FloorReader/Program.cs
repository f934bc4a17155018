// Reads every row of the benchmark query with a plain Npgsql loop (GetValue on every column, as Get-SourceRows does)
// and prints one JSON line: rows, seconds, rows/s and the process's peak resident memory (VmHWM).
using System.Diagnostics;
using System.Text.Json;
using Npgsql;

var connectionString = args[0];
var query = args[1];
var watch = Stopwatch.StartNew();
long rows = 0;
using (var connection = new NpgsqlConnection(connectionString))
{
    connection.Open();
    using var command = new NpgsqlCommand(query, connection) { CommandTimeout = 0 };
    using var reader = command.ExecuteReader();
    var values = new object[reader.FieldCount];
    while (reader.Read())
    {
        for (var i = 0; i < values.Length; i++) values[i] = reader.GetValue(i);
        rows++;
    }
}
watch.Stop();
var peak = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"));
var peakKb = long.Parse(peak.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
Console.WriteLine(JsonSerializer.Serialize(new { name = "C# reader loop (floor)", rows, seconds = Math.Round(watch.Elapsed.TotalSeconds, 2), rowsPerSecond = Math.Round(rows / watch.Elapsed.TotalSeconds), peakMB = Math.Round(peakKb / 1024.0, 1) }));
