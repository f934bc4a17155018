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
    Import-Module $module
    $null = Get-SourceRows -Provider Postgres -ConnectionString $cs -CommandTimeout 0 -Query @"
drop table if exists bench_rows;
create table bench_rows as
select g as id, g::bigint * 1000003 as big, ((g % 100000)::numeric(12,2) / 7)::numeric(14,4) as amount, g * 0.5::float8 as score,
       g % 2 = 0 as active, 'customer ' || g || ' ' || md5(g::text) as name,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' as seen, date '2020-01-01' + (g % 1000) as born
from generate_series(1, $Rows) g;
analyze bench_rows;
select 1 as done
"@

    $results = [System.Collections.Generic.List[object]]::new()
    $query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $Rows"
    $measureGsr = Join-Path $PSScriptRoot 'Measure-GetSourceRows.ps1'
    $measureHand = Join-Path $PSScriptRoot 'Measure-HandWritten.ps1'
    $results.Add((& dotnet $floorDll $cs $query | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -File $measureGsr $module $cs $Rows | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -File $measureHand $dependencies $cs $Rows | ConvertFrom-Json))
    $results.Add((& dotnet pwsh -NoProfile -NonInteractive -File $measureGsr $module $cs $SmallRows | ConvertFrom-Json))
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
