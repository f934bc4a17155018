<#
.SYNOPSIS
    Incremental sync benchmark: N rows synced into the emulator through Invoke-KustomerSync, then an unchanged rerun,
    then 1% of the rows changed and synced again. Prints a table and checks that the last run's writes equal the
    changed rows.
.DESCRIPTION
    Uses the built module (out/KustomerSync) and emulator (out/emulator): run `dotnet pwsh ./build.ps1 -Task Build`
    first. The source is a SQLite file, the state a SQLite file (or, with -StateProvider Postgres, a table in the
    Postgres named by -PostgresConnectionString / KUSTOMERSYNC_TEST_POSTGRES). The emulator's rate limit is off, so
    the figures measure KustomerSync and the emulator, not Kustomer's budget.
.EXAMPLE
    dotnet pwsh ./bench/incremental/Run-IncrementalBench.ps1 -Rows 100000
#>
[CmdletBinding()]
param(
    [int] $Rows = 100000,
    [double] $ChangedPercent = 1,
    [int] $ThrottleLimit = 16,
    [ValidateSet('Sqlite', 'Postgres')] [string] $StateProvider = 'Sqlite',
    [string] $PostgresConnectionString = $env:KUSTOMERSYNC_TEST_POSTGRES,
    [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
Import-Module (Join-Path $root 'build/EmulatorProcess.psm1')
Import-Module (Join-Path $root 'out/KustomerSync') -Force
$work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-incremental-$([guid]::NewGuid().ToString('N'))"
New-Item -ItemType Directory -Path $work | Out-Null
$emulator = Start-KustomerEmulator -EmulatorDll (Join-Path $root 'out/emulator/KustomerSync.Emulator.dll') -Arguments '--rate-limit', '0'
$http = [System.Net.Http.HttpClient]::new()
function Get-Writes {
    # Create and update requests the emulator has answered (search and reads excluded).
    $stats = $http.GetStringAsync("$($emulator.BaseUri)/_emulator/stats").GetAwaiter().GetResult() | ConvertFrom-Json -AsHashtable
    $sum = 0
    foreach ($route in $stats.byRoute.Keys) {
        if ($route -match '^(POST|PUT|PATCH)\b' -and $route -notmatch 'search') { $sum += $stats.byRoute[$route] }
    }
    $sum
}
try {
    $db = Join-Path $work 'source.db'
    $cs = "Data Source=$db"
    Write-Host "Creating $Rows source rows..."
    Get-SourceRows -Provider Sqlite -ConnectionString $cs -Query @"
create table customers (id integer primary key, full_name text, email text, plan text, ltv real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < $Rows)
insert into customers select i, 'Customer ' || i, 'c' || i || '@example.com', case i % 3 when 0 then 'gold' when 1 then 'silver' else 'bronze' end, i * 1.5 from n;
"@ | Out-Null

    $env:KS_BENCH_KEY = 'emulator-key'
    $state = if ($StateProvider -eq 'Sqlite') { "@{ Path = 'state.db' }" } else {
        if (-not $PostgresConnectionString) { throw 'Give -PostgresConnectionString or set KUSTOMERSYNC_TEST_POSTGRES for a Postgres state.' }
        $env:KS_BENCH_STATE = $PostgresConnectionString
        "@{ Provider = 'Postgres'; ConnectionStringEnvironmentVariable = 'KS_BENCH_STATE'; Schema = 'ks_bench_$([guid]::NewGuid().ToString('N').Substring(0, 8))' }"
    }
    $definition = Join-Path $work 'bench.sync.psd1'
    @"
@{
    Name = 'bench-incremental'
    Source = @{ Provider = 'Sqlite'; ConnectionString = '$cs'; Query = 'select cast(id as text) as externalId, full_name as name, email, plan as tierStr, ltv as lifetimeValueNum from customers' }
    Destination = @{ BaseUri = '$($emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KS_BENCH_KEY' }
    Object = 'Customer'
    SyncKey = 'ExternalId'
    ThrottleLimit = $ThrottleLimit
    State = $state
}
"@ | Set-Content $definition

    $results = [System.Collections.Generic.List[object]]::new()
    function Invoke-Measured([string] $Label, [int] $Changed) {
        $before = Get-Writes
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $summary = Invoke-KustomerSync -Path $definition -WarningAction SilentlyContinue
        $clock.Stop()
        $writes = (Get-Writes) - $before
        $results.Add([pscustomobject]@{
                Run = $Label; Rows = $summary.Total; Changed = $Changed; Created = $summary.Created; Updated = $summary.Updated
                Unchanged = $summary.Unchanged; Rejected = $summary.Invalid + $summary.Failed; Requests = $summary.Requests; Writes = $writes
                Seconds = [math]::Round($clock.Elapsed.TotalSeconds, 2); RowsPerSecond = [math]::Round($summary.Total / $clock.Elapsed.TotalSeconds)
                ExitCode = $LASTEXITCODE
            })
        Write-Host ("{0}: {1:N2} s" -f $Label, $clock.Elapsed.TotalSeconds)
    }

    Invoke-Measured 'first (all new)' $Rows
    Invoke-Measured 'second (none changed)' 0
    $every = [int][math]::Round(100 / $ChangedPercent)
    $changed = [int][math]::Floor($Rows / $every)
    Get-SourceRows -Provider Sqlite -ConnectionString $cs -Query "update customers set plan = 'platinum', ltv = ltv + 1 where id % $every = 0" | Out-Null
    Invoke-Measured "third ($ChangedPercent% changed)" $changed

    $results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $third = $results[2]
    $ok = $third.Updated -eq $changed -and $third.Writes -eq $changed -and $results[1].Requests -eq 0 -and $results[1].Unchanged -eq $Rows
    Write-Host ("Check: third run wrote {0} records for {1} changed rows; second run sent {2} requests: {3}" -f $third.Writes, $changed, $results[1].Requests, $(if ($ok) { 'OK' } else { 'FAILED' }))
    $cpu = if (Test-Path /proc/cpuinfo) { ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':\s*', 2)[1] } else { $env:PROCESSOR_IDENTIFIER }
    $report = [pscustomobject]@{
        Date = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm') + ' UTC'; Processors = [Environment]::ProcessorCount; Cpu = $cpu
        PowerShell = $PSVersionTable.PSVersion.ToString(); Runtime = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
        State = $StateProvider; ThrottleLimit = $ThrottleLimit; Runs = $results; Check = $(if ($ok) { 'OK' } else { 'FAILED' })
    }
    if ($ResultPath) { $report | ConvertTo-Json -Depth 4 | Set-Content $ResultPath }
    if (-not $ok) { exit 1 }
} finally {
    $http.Dispose()
    Stop-KustomerEmulator $emulator
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
