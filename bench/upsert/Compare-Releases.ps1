<#
.SYNOPSIS
    Side by side in one run: this build of the module, the previous release (commit 269ec7f, built from a git worktree
    as the first step) and a plain Invoke-RestMethod loop, under a realistic rate budget compressed in time.

.DESCRIPTION
    For each contender and path (single-record: emulator-key; bulk: emulator-bulk-key), on a fresh emulator process
    with --rate-limit -RateLimit --rate-window-seconds -RateWindowSeconds --latency-ms -LatencyMs:
      1. an initial load of -Rows new customers by ExternalId, with a state store (-StatePath);
      2. a rerun of the same rows with -ChangedPercent of them changed, with the same state store.
    The loop (lookup, then POST or PATCH; sleeps for the reset on a 429) runs -LoopRows rows, since it makes one
    request at a time. Each module contender runs in its own PowerShell process (two builds of one module cannot
    load into one process). Requests and 429s are counted by the emulator (/_emulator/stats).

    Share of the ceiling = requests per second achieved / requests per second the contender may use: the whole limit
    for the previous release and the loop, this build's budget share (default 0.75) of it for this build.

.EXAMPLE
    dotnet pwsh -NoProfile -Command "./bench/upsert/Compare-Releases.ps1 -Rows 1000,10000 -BulkRows 1000,10000,100000 -LoopRows 1000"

    Lists need -Command: under -File, "1000,10000" arrives as one string. -PreviousModule <psd1> reuses a build of the
    previous release instead of building it again.

.EXAMPLE
    dotnet pwsh -NoProfile -Command "./bench/upsert/Compare-Releases.ps1 -Contender Current -BulkRows @() -EmulatorArguments '--rate-reset-on-success','true'"

    The emulator sends x-ratelimit-reset on every answer, not only on 429s.
#>
[CmdletBinding()]
param(
    [int[]] $Rows = @(10000),
    [int[]] $BulkRows = @(10000),
    [double] $ChangedPercent = 1,
    [int] $RateLimit = 1000,
    [int] $RateWindowSeconds = 6,
    [int] $LatencyMs = 50,
    [int] $Throttle = 16,
    [int] $LoopRows = 1000,
    [string] $PreviousCommit = '269ec7f',
    [string[]] $Contender = @('Previous', 'Current', 'Loop'),
    [string] $PreviousModule,
    [string[]] $EmulatorArguments = @(),
    # Turns the guards off (-Force) where the module has them: a rerun that changes over a quarter of the records is
    # refused by TooManyChanges otherwise.
    [switch] $Force,
    [string] $ResultPath,
    # Child mode: one contender's two runs against an emulator that is already running.
    [string] $ChildModule,
    [string] $ChildBaseUri,
    [string] $ChildKey,
    [int] $ChildRows,
    [string] $ChildState,
    [string] $ChildOut
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

function New-Rows([int] $Count, [int] $ChangedEvery = 0) {
    $tiers = 'gold', 'silver', 'bronze'
    $list = [System.Collections.Generic.List[object]]::new($Count)
    for ($i = 1; $i -le $Count; $i++) {
        $version = if ($ChangedEvery -gt 0 -and $i % $ChangedEvery -eq 0) { 2 } else { 1 }
        $list.Add([pscustomobject]@{
                externalId = "b-$i"; name = "Customer $i v$version"; email = "b-$i@example.com"
                tierStr = $tiers[$i % 3]; lifetimeValueNum = $i * 10 + $version
            })
    }
    , $list
}

if ($ChildModule) {
    Import-Module $ChildModule -Force
    $env:KS_COMPARE_KEY = $ChildKey
    Connect-KustomerDestination -BaseUri $ChildBaseUri -ApiKeyEnvironmentVariable KS_COMPARE_KEY -Name bench -SkipConnectionTest
    $changedEvery = [int][math]::Round(100 / $ChangedPercent)
    $out = foreach ($run in @(@{ Label = 'initial load'; Every = 0 }, @{ Label = "rerun, $ChangedPercent% changed"; Every = $changedEvery })) {
        $data = New-Rows $ChildRows $run.Every
        [GC]::Collect()
        $statuses = @{}
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $guards = if ($Force -and (Get-Command Invoke-KustomerUpsert).Parameters.ContainsKey('Force')) { @{ Force = $true } } else { @{} }
        $data | Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -Destination bench -ThrottleLimit $Throttle -StatePath $ChildState -SummaryVariable s -ErrorAction SilentlyContinue @guards |
            ForEach-Object { $statuses[[string]$_.Status] = 1 + [int]$statuses[[string]$_.Status] }
        $watch.Stop()
        $budget = if ($s.PSObject.Properties['RateBudget']) { $s.RateBudget } else { $null }
        [pscustomobject]@{
            Run = $run.Label; Rows = $ChildRows; Seconds = $watch.Elapsed.TotalSeconds; Requests = $s.Requests
            Summary429 = $s.RateLimited; Budget = $budget; UsedBulk = $s.UsedBulk
            Statuses = ($statuses.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' '
        }
    }
    $out | ConvertTo-Json -Depth 3 -AsArray | Set-Content $ChildOut
    return
}

$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$scratch = Join-Path ([IO.Path]::GetTempPath()) "ks-compare-$PID"
New-Item -ItemType Directory -Force -Path $scratch | Out-Null
if (-not $ResultPath) { $ResultPath = Join-Path $root ".tmp/bench-upsert/compare-$(Get-Date -Format 'yyyyMMdd-HHmmss').json" }

# Step 1: the previous release, built from its commit in a worktree of its own.
if ('Previous' -in $Contender -and -not $PreviousModule) {
    $tree = Join-Path $scratch 'previous'
    & git -C $root worktree add --detach $tree $PreviousCommit | Out-Host
    Push-Location $tree
    try {
        & dotnet tool restore | Out-Null
        & dotnet pwsh ./build.ps1 -Task Build | Out-Host
        if ($LASTEXITCODE) { throw "The build of $PreviousCommit failed." }
    } finally { Pop-Location }
    $PreviousModule = Join-Path $tree 'out/KustomerSync/0.1.0/KustomerSync.psd1'
}
# Private copies of this build and its emulator: others rebuild out/ on this machine.
Copy-Item (Join-Path $root 'out/KustomerSync/0.1.0') (Join-Path $scratch 'current') -Recurse -Force
Copy-Item (Join-Path $root 'out/emulator') (Join-Path $scratch 'emulator') -Recurse -Force
$emulatorDll = Join-Path $scratch 'emulator/KustomerSync.Emulator.dll'
Import-Module (Join-Path $root 'build/EmulatorProcess.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'PlainLoop.psm1') -Force
$modules = @{ Previous = $PreviousModule; Current = (Join-Path $scratch 'current/KustomerSync.psd1') }
$http = [System.Net.Http.HttpClient]::new()
$limitArgs = @('--rate-limit', "$RateLimit", '--rate-window-seconds', "$RateWindowSeconds", '--latency-ms', "$LatencyMs", '--search-rate-limit', '0') + $EmulatorArguments
$perSecond = $RateLimit / $RateWindowSeconds
$results = [System.Collections.Generic.List[object]]::new()

function Get-Stats($Emulator) { $http.GetStringAsync("$($Emulator.BaseUri)/_emulator/stats").GetAwaiter().GetResult() | ConvertFrom-Json -AsHashtable }

function Add-Row($Contender, $Path, $Run, $Rows, $Seconds, $Requests, $Emulator429, $Statuses, $AllowedPerSecond) {
    $row = [pscustomobject]@{
        Contender = $Contender; Path = $Path; Run = $Run; Rows = $Rows; Seconds = [math]::Round($Seconds, 1)
        RowsPerSecond = [math]::Round($Rows / $Seconds, 1); Requests = $Requests
        RequestsPerRow = [math]::Round($Requests / $Rows, 3)
        PercentOfCeiling = [math]::Round(100 * ($Requests / $Seconds) / $AllowedPerSecond, 1)
        CeilingRequestsPerSecond = [math]::Round($AllowedPerSecond, 1); Emulator429 = $Emulator429; Statuses = $Statuses
    }
    $results.Add($row)
    Write-Host ("{0} {1} {2}: {3} rows in {4} s, {5} requests, {6} 429s ({7})" -f $Contender, $Path, $Run, $Rows, $row.Seconds, $Requests, $Emulator429, $Statuses)
}

try {
    foreach ($c in @('Previous', 'Current') | Where-Object { $_ -in $Contender }) {
        foreach ($path in 'Single', 'Bulk') {
            foreach ($n in $(if ($path -eq 'Single') { $Rows } else { $BulkRows })) {
                $emulator = Start-KustomerEmulator -EmulatorDll $emulatorDll -Arguments $limitArgs
                try {
                    $state = Join-Path $scratch "$c-$path-$n.db"
                    $before = Get-Stats $emulator
                    $key = if ($path -eq 'Single') { 'emulator-key' } else { 'emulator-bulk-key' }
                    $childOut = Join-Path $scratch "$c-$path-$n.json"
                    & dotnet pwsh -NoProfile -File $PSCommandPath -ChildModule $modules[$c] -ChildBaseUri $emulator.BaseUri -ChildKey $key `
                        -ChildRows $n -ChildState $state -ChildOut $childOut -Throttle $Throttle -ChangedPercent $ChangedPercent -Force:$Force | Out-Host
                    if ($LASTEXITCODE) { throw "The $c run failed." }
                    $runs = Get-Content $childOut -Raw | ConvertFrom-Json
                    $after = Get-Stats $emulator
                    $total429 = $after.rateLimited - $before.rateLimited
                    foreach ($r in $runs) {
                        $allowed = if ($null -ne $r.Budget) { $r.Budget / $RateWindowSeconds } else { $perSecond }
                        Add-Row $c $path $r.Run $r.Rows $r.Seconds $r.Requests $r.Summary429 $r.Statuses $allowed
                    }
                    Write-Host "  emulator: $($after.totalRequests - $before.totalRequests) requests (start-up reads included), $total429 429s"
                } finally { Stop-KustomerEmulator $emulator }
            }
        }
    }

    if ('Loop' -in $Contender) {
        $emulator = Start-KustomerEmulator -EmulatorDll $emulatorDll -Arguments $limitArgs
        try {
            foreach ($run in @(@{ Label = 'initial load'; Every = 0 }, @{ Label = "rerun, $ChangedPercent% changed"; Every = [int][math]::Round(100 / $ChangedPercent) })) {
                $data = New-Rows $LoopRows $run.Every
                $before = Get-Stats $emulator
                $loop = Invoke-PlainLoop -BaseUri $emulator.BaseUri -Key 'emulator-key' -Rows $data
                $after = Get-Stats $emulator
                Add-Row 'Invoke-RestMethod loop' 'Single' $run.Label $LoopRows $loop.Seconds ($after.totalRequests - $before.totalRequests) `
                    ($after.rateLimited - $before.rateLimited) "Created=$($loop.Created) Updated=$($loop.Updated)" $perSecond
            }
        } finally { Stop-KustomerEmulator $emulator }
    }
} finally {
    $http.Dispose()
    New-Item -ItemType Directory -Force -Path (Split-Path $ResultPath) | Out-Null
    $meta = [ordered]@{
        Date = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm') + ' UTC'; Nproc = [Environment]::ProcessorCount
        Load = (Get-Content /proc/loadavg -ErrorAction SilentlyContinue); Commit = (& git -C $root rev-parse --short HEAD 2>$null)
        Limit = "$RateLimit per $RateWindowSeconds s"; LatencyMs = $LatencyMs; Throttle = $Throttle; Results = $results
    }
    $meta | ConvertTo-Json -Depth 4 | Set-Content $ResultPath
    Write-Host "Machine: nproc=$($meta.Nproc), load $($meta.Load), commit $($meta.Commit), $($meta.Date); limit $($meta.Limit), latency $LatencyMs ms, throttle $Throttle"
    Write-Host '| Contender | Path | Run | Rows | Seconds | Rows/s | Requests | Requests/row | % of ceiling (req/s) | 429s | Outcomes |'
    Write-Host '|---|---|---|---|---|---|---|---|---|---|---|'
    foreach ($r in $results) {
        Write-Host "| $($r.Contender) | $($r.Path) | $($r.Run) | $($r.Rows) | $($r.Seconds) | $($r.RowsPerSecond) | $($r.Requests) | $($r.RequestsPerRow) | $($r.PercentOfCeiling)% of $($r.CeilingRequestsPerSecond) | $($r.Emulator429) | $($r.Statuses) |"
    }
    Write-Host "Results: $ResultPath"
    if (Test-Path (Join-Path $scratch 'previous')) { & git -C $root worktree remove --force (Join-Path $scratch 'previous') 2>$null }
}
