# What the definition-run suites (Alerts, Automation, Guards) build the same way: an emulator key file with the roles
# Census asks for, a SQLite table of people of which the first few have an email Kustomer cannot take, and a local
# webhook receiver.

function New-EmulatorKeyFile {
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $Key)
    $path = Join-Path $Folder 'keys.json'
    @{ keys = @(@{ key = $Key; name = 'test key'; roles = @('org.admin.klass.read', 'org.user.kobject.read', 'org.admin.metadata.read',
                    'org.admin.search.read', 'org.user.customer.write', 'org.user.kobject.write', 'org.permission.customer', 'org.permission.company') }) } |
        ConvertTo-Json -Depth 5 | Set-Content $path
    $path
}

function New-SqlitePeople {
    # Table people (id, full_name, email) of $Rows rows keyed "$Prefix-<n>"; rows 1 to $BadEmails have an invalid email.
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Prefix, [int] $Rows, [int] $BadEmails)
    Invoke-Sqlite -Path $Path -Sql @"
create table people (id text, full_name text, email text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < $Rows)
insert into people select '$Prefix-' || i, 'Person ' || i, case when i <= $BadEmails then 'not-an-email-' || i else '$Prefix.' || i || '@example.com' end from n
"@
}

function Invoke-Sqlite {
    # Runs SQL on a SQLite file (fixtures: create, load, break a source table).
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Sql)
    Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$Path" -Query $Sql | Out-Null
}

function Get-EmulatorCustomers {
    # The customers the emulator holds, as Kustomer shows them (attributes.externalId, attributes.custom, ...).
    param([Parameter(Mandatory)] [string] $BaseUri)
    $http = [System.Net.Http.HttpClient]::new()
    try { ($http.GetStringAsync("$BaseUri/_emulator/state").GetAwaiter().GetResult() | ConvertFrom-Json -Depth 20).customers.items }
    finally { $http.Dispose() }
}

function Invoke-ChildScript {
    # Runs a script file in a new PowerShell process (the same PowerShell as this one), finding modules in
    # $ModuleParent first, as a scheduled task would; returns the exit code and all output.
    param([Parameter(Mandatory)] [string] $File, [string[]] $Arguments = @(), [Parameter(Mandatory)] [string] $ModuleParent)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $File) + $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['PSModulePath'] = $ModuleParent + [System.IO.Path]::PathSeparator + $env:PSModulePath
    $process = [System.Diagnostics.Process]::Start($psi)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    # A guard against a hung child, not a measure of speed: a busy machine may take its time.
    if (-not $process.WaitForExit([TimeSpan]::FromMinutes(10))) { $process.Kill($true); throw "$File did not finish in 10 minutes" }
    [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.GetAwaiter().GetResult(); Errors = $stderr.GetAwaiter().GetResult() }
}

function Start-WebhookReceiver {
    # A webhook receiver on a free loopback port: it answers 200 and keeps each post's body until Get-WebhookPosts.
    param([Parameter(Mandatory)] [int] $Port)
    $url = "http://127.0.0.1:$Port/hooks/s3cr3t-path/"
    $posts = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $listener = [System.Net.HttpListener]::new()
    $listener.Prefixes.Add($url)
    $listener.Start()
    $runner = [powershell]::Create()
    $null = $runner.AddScript({
            param($Listener, $Posts)
            while ($Listener.IsListening) {
                try { $context = $Listener.GetContext() } catch { break }
                $reader = [System.IO.StreamReader]::new($context.Request.InputStream)
                $Posts.Enqueue($reader.ReadToEnd())
                $context.Response.StatusCode = 200
                $context.Response.Close()
            }
        }).AddArgument($listener).AddArgument($posts)
    [pscustomobject]@{ Url = $url; Posts = $posts; Listener = $listener; Runner = $runner; Run = $runner.BeginInvoke() }
}

function Get-WebhookPosts {
    # The posts received since the last call, parsed. Posts are made before Invoke-KustomerSync returns, and the
    # receiver queues each before it answers, so nothing is in flight when this runs.
    param([Parameter(Mandatory)] $Receiver)
    $all = @()
    $item = $null
    while ($Receiver.Posts.TryDequeue([ref] $item)) { $all += $item | ConvertFrom-Json }
    $all
}

function Stop-WebhookReceiver {
    param([Parameter(Mandatory)] $Receiver)
    $Receiver.Listener.Stop()
    $Receiver.Listener.Close()
    $null = $Receiver.Run.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(10))
    $Receiver.Runner.Dispose()
}

Export-ModuleMember -Function New-EmulatorKeyFile, New-SqlitePeople, Invoke-Sqlite, Invoke-ChildScript, Get-EmulatorCustomers, Start-WebhookReceiver, Get-WebhookPosts, Stop-WebhookReceiver
