# One contender of Run-SourceBenchmark.ps1, in its own process: Get-SourceRows | Measure-Object. Prints one JSON line.
param([string] $ModulePath, [string] $ConnectionString, [int] $Rows)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $Rows"
$watch = [Diagnostics.Stopwatch]::StartNew()
$count = (Get-SourceRows -Provider Postgres -ConnectionString $ConnectionString -Query $query -CommandTimeout 0 | Measure-Object).Count
$watch.Stop()
$peakKb = [long](((Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM:*' }) -split '\s+')[1])
[pscustomobject]@{ name = "Get-SourceRows | Measure-Object"; rows = $count; seconds = [math]::Round($watch.Elapsed.TotalSeconds, 2)
    rowsPerSecond = [math]::Round($count / $watch.Elapsed.TotalSeconds); peakMB = [math]::Round($peakKb / 1024, 1) } | ConvertTo-Json -Compress
