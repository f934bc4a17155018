<#
.SYNOPSIS
    Steady-state throughput of Invoke-KustomerUpsert with no rate limit: one emulator process and one PowerShell
    process per path, several rounds, so that both have been compiled by the JIT before the rounds that count.
.DESCRIPTION
    Invoke-UpsertBenchmark.ps1 gives every measurement a fresh emulator process, so its unlimited figures include the
    emulator's JIT warm-up. This script keeps one emulator per path and resets its data between rounds (the
    test-only POST /_emulator/reset), then reports every round: the first rounds show the warm-up, the last ones the
    steady state. Per round and path: a fresh sync of -Rows customers (created), then, with a state file, the same
    rows with one changed value (updated by remembered id: no lookups).
.EXAMPLE
    dotnet pwsh -File bench/upsert/Measure-WarmThroughput.ps1 -Rows 20000 -Rounds 6
#>
[CmdletBinding()]
param(
    [int] $Rows = 20000,
    [int] $Rounds = 6,
    [int] $ThrottleLimit = 16
)
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $root 'build/EmulatorProcess.psm1')
Import-Module (Join-Path $root 'out/KustomerSync')
$http = [System.Net.Http.HttpClient]::new()
$scratch = Join-Path $root ".tmp/bench-warm/$PID"
New-Item -ItemType Directory -Force -Path $scratch | Out-Null

function New-Rows([string] $Tier) {
    1..$Rows | ForEach-Object { [pscustomobject]@{ externalId = "w$_"; name = "Person $_"; email = "w$_@example.com"; tierStr = $Tier; lifetimeValueNum = $_ } }
}
$fresh = New-Rows 'gold'
$changed = New-Rows 'silver'
$me = [System.Diagnostics.Process]::GetCurrentProcess()
$cpu = (Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
"Machine: nproc=$([Environment]::ProcessorCount), CPU '$cpu', .NET $([Environment]::Version), PowerShell $($PSVersionTable.PSVersion), $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC"
''
'| Path | Round | Run | Rows | Seconds | Rows/s | Requests | Emulator CPU s | PowerShell CPU s | Outcomes |'
'|---|---|---|---|---|---|---|---|---|---|'
foreach ($path in 'Single', 'Bulk') {
    $key = if ($path -eq 'Bulk') { 'emulator-bulk-key' } else { 'emulator-key' }
    $emulator = Start-KustomerEmulator -EmulatorDll (Join-Path $root 'out/emulator/KustomerSync.Emulator.dll') -Arguments '--rate-limit', '0', '--bulk-delay-ms', '0'
    try {
        $env:KUSTOMERSYNC_BENCH_KEY = $key
        Connect-KustomerDestination -BaseUri $emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_BENCH_KEY -Name "warm-$path"
        foreach ($round in 1..$Rounds) {
            $http.PostAsync("$($emulator.BaseUri)/_emulator/reset", $null).GetAwaiter().GetResult() | Out-Null
            $state = Join-Path $scratch "$path-$round.db"
            foreach ($run in @(@{ Name = 'fresh (create)'; Rows = $fresh }, @{ Name = 'changed, ids from state (update)'; Rows = $changed })) {
                $emulator.Process.Refresh(); $me.Refresh()
                $emulatorCpu = $emulator.Process.TotalProcessorTime; $ownCpu = $me.TotalProcessorTime
                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $summary = $run.Rows | Invoke-KustomerUpsert -Object Customer -Destination "warm-$path" -ThrottleLimit $ThrottleLimit -StatePath $state |
                    Select-Object -Last 1
                $seconds = $watch.Elapsed.TotalSeconds
                $emulator.Process.Refresh(); $me.Refresh()
                $outcomes = ('Created', 'Updated', 'Unchanged', 'Invalid', 'Failed' | Where-Object { $summary.$_ } | ForEach-Object { "$_=$($summary.$_)" }) -join ' '
                '| {0} | {1} | {2} | {3} | {4:N2} | {5:N0} | {6} | {7:N2} | {8:N2} | {9} |' -f $path, $round, $run.Name, $Rows, $seconds, ($Rows / $seconds),
                    $summary.Requests, ($emulator.Process.TotalProcessorTime - $emulatorCpu).TotalSeconds, ($me.TotalProcessorTime - $ownCpu).TotalSeconds, $outcomes
            }
        }
        Disconnect-KustomerDestination -Name "warm-$path"
    } finally {
        Stop-KustomerEmulator $emulator
    }
}
Remove-Item $scratch -Recurse -Force
