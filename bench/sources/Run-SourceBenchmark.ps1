<#
.SYNOPSIS
    Benchmarks Get-SourceRows against the local Postgres: 1,000,000 rows of 8 mixed-type columns, side by side with a
    plain C# reader loop (the floor) and a hand-written PowerShell ADO.NET loop (what admins write today).
.DESCRIPTION
    Each contender runs in its own process so its peak memory (VmHWM) is its own. Uses $env:KUSTOMERSYNC_TEST_POSTGRES,
    or starts a private Postgres with tests/servers/TestServers.psm1. Needs the built module (build.ps1 -Task Build).
    Prints one line per contender and writes results.json beside this script.
.EXAMPLE
    dotnet pwsh ./bench/sources/Run-SourceBenchmark.ps1 -Rows 1000000
#>
[CmdletBinding()]
param(
    [int] $Rows = 1000000,
    [int] $SmallRows = 100000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/KustomerSync')
)
$ErrorActionPreference = 'Stop'
$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$started = $false
if (-not $env:KUSTOMERSYNC_TEST_POSTGRES) {
    Import-Module (Join-Path $root 'tests/servers/TestServers.psm1') -Force
    Start-TestServers -Folder (Join-Path $root '.tmp/bench-servers')
    $started = $true
}
try {
    $cs = $env:KUSTOMERSYNC_TEST_POSTGRES
    $module = (Resolve-Path $ModulePath).Path
    $dependencies = (Get-ChildItem (Join-Path $module '*/Core/dependencies') -Directory | Select-Object -First 1).FullName
    $floor = Join-Path $PSScriptRoot 'FloorReader'
    & dotnet build $floor -c Release --nologo -v quiet | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'Building FloorReader failed.' }
    $floorDll = Join-Path $floor 'bin/Release/net10.0/FloorReader.dll'

    # 8 mixed-type columns: int, bigint, numeric, double, boolean, text, timestamptz, date.
    $setup = @'
Import-Module $args[0]
$null = Get-SourceRows -Provider Postgres -ConnectionString $args[1] -Query @"
drop table if exists bench_rows;
create table bench_rows as
select g as id, g::bigint * 1000003 as big, (g % 100000)::numeric(12,2) / 7 as amount, g * 0.5::float8 as score,
       g % 2 = 0 as active, 'customer ' || g || ' ' || md5(g::text) as name,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' as seen, date '2020-01-01' + (g % 1000) as born
from generate_series(1, $($args[2])) g;
analyze bench_rows;
select 1 as done
"@
'@
    & dotnet pwsh -NoProfile -NonInteractive -Command $setup $module $cs $Rows
    if ($LASTEXITCODE -ne 0) { throw 'Creating bench_rows failed.' }

    $peak = 'function Peak { [math]::Round(([long](((Get-Content /proc/self/status | Where-Object { $_ -like "VmHWM:*" }) -split "\s+")[1])) / 1024, 1) }'
    $getSourceRows = $peak + @'
Import-Module $args[0]
$query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $($args[2])"
$watch = [Diagnostics.Stopwatch]::StartNew()
$count = (Get-SourceRows -Provider Postgres -ConnectionString $args[1] -Query $query -CommandTimeout 0 | Measure-Object).Count
$watch.Stop()
[pscustomobject]@{ name = $args[3]; rows = $count; seconds = [math]::Round($watch.Elapsed.TotalSeconds, 2); rowsPerSecond = [math]::Round($count / $watch.Elapsed.TotalSeconds); peakMB = Peak } | ConvertTo-Json -Compress
'@
    $handWritten = $peak + @'
Add-Type -Path (Join-Path $args[0] 'Npgsql.dll')
$query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $($args[2])"
$watch = [Diagnostics.Stopwatch]::StartNew()
$count = & {
    $connection = [Npgsql.NpgsqlConnection]::new($args[1])
    $connection.Open()
    try {
        $command = $connection.CreateCommand()
        $command.CommandText = $query
        $command.CommandTimeout = 0
        $reader = $command.ExecuteReader()
        while ($reader.Read()) {
            $row = [ordered]@{}
            for ($i = 0; $i -lt $reader.FieldCount; $i++) {
                $value = $reader.GetValue($i)
                $row[$reader.GetName($i)] = if ($value -is [DBNull]) { $null } else { $value }
            }
            [pscustomobject]$row
        }
        $reader.Dispose()
    } finally { $connection.Dispose() }
} | Measure-Object | ForEach-Object Count
$watch.Stop()
[pscustomobject]@{ name = 'hand-written PowerShell ADO.NET loop'; rows = $count; seconds = [math]::Round($watch.Elapsed.TotalSeconds, 2); rowsPerSecond = [math]::Round($count / $watch.Elapsed.TotalSeconds); peakMB = Peak } | ConvertTo-Json -Compress
'@
    $results = [System.Collections.Generic.List[object]]::new()
    $query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $Rows"
    $results.Add((& dotnet $floorDll $cs $query | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -Command $getSourceRows $module $cs $Rows "Get-SourceRows | Measure-Object ($Rows rows)" | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -Command $handWritten $dependencies $cs $Rows | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -Command $getSourceRows $module $cs $SmallRows "Get-SourceRows | Measure-Object ($SmallRows rows)" | ConvertFrom-Json))
    $results | Format-Table name, rows, seconds, rowsPerSecond, peakMB -AutoSize | Out-String | Write-Host
    [pscustomobject]@{
        date = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm') + ' UTC'
        cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':\s*', 2)[1]
        cores = [Environment]::ProcessorCount
        results = $results
    } | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $PSScriptRoot 'results.json')
} finally {
    if ($started) { Stop-TestServers }
}
