<#
.SYNOPSIS
    Upsert benchmarks: the built module against the emulator process, under a realistic rate limit and latency, with no
    limit at all, and side by side with a plain Invoke-RestMethod loop. Prints measured figures only.

.DESCRIPTION
    Scenarios (-Scenario, several allowed; default all):

    Limited    Emulator at -RateLimit requests per -RateWindowSeconds (the default 100 per 6 s is Kustomer's Enterprise
               1,000 per 60 s compressed into a shorter window of the same rate) and -LatencyMs 50. A fresh customer
               sync by ExternalId (every row is a lookup that misses plus a create: 2 requests), then an update run of
               the same rows (lookup plus PATCH: 2 requests). Ceiling = limit / window / 2 rows/s; achieved rows/s is
               reported as a share of it, with the 429s from the summary (RateLimited) and from /_emulator/stats.
               Run once with emulator-key (single-record path) and once with emulator-bulk-key (the bulk path, when
               the engine takes it: the emulator's per-route counts show whether POST /v1/customers/bulk was used).
    Loop       Same limit, latency and rows as Limited: a plain PowerShell loop of Invoke-RestMethod calls (GET by
               externalId, then POST or PATCH, Bearer header, retry on 429 after sleeping x-ratelimit-reset seconds),
               then the module on a fresh emulator, and the ratio of the two rates.
    Unlimited  --rate-limit 0, no latency (-EmulatorArguments '--bulk-delay-ms','0' also removes the emulator's simulated
               bulk job time, 200 ms by default): a warm-up run, then -UnlimitedRows fresh rows and an update run of them,
               for each -ThrottleLimit, with emulator-key and with emulator-bulk-key. Rows/s is measured from the
               first row entering the pipeline to the summary (every result confirmed and emitted).

    Each measurement uses its own emulator process on a free loopback port, so budgets and stores never carry over.
    The module and emulator are copied from out/ to a private folder first, so a rebuild by someone else during the
    run cannot swap DLLs under it. Results are printed as markdown tables and written as JSON to -ResultPath.

.EXAMPLE
    dotnet pwsh ./bench/upsert/Invoke-UpsertBenchmark.ps1 -Scenario Unlimited -ThrottleLimit 8,16,32

.EXAMPLE
    dotnet pwsh ./bench/upsert/Invoke-UpsertBenchmark.ps1 -Scenario Limited -RateLimit 200 -RateWindowSeconds 12 -LimitedRows 1000
#>
[CmdletBinding()]
param(
    [string[]] $Scenario = @('Limited', 'Loop', 'Unlimited'),
    [int] $RateLimit = 100,
    [int] $RateWindowSeconds = 6,
    [int] $LatencyMs = 50,
    [int] $LimitedRows = 1000,
    [int] $LoopRows = 500,
    [int] $UnlimitedRows = 20000,
    [int] $WarmupRows = 2000,
    [string[]] $ThrottleLimit = @('8', '16', '32'),
    [int] $LimitedThrottleLimit = 8,
    [string[]] $Path = @('Single', 'Bulk'),
    [string[]] $EmulatorArguments = @(),
    [string] $ModuleSource,
    [string] $EmulatorSource,
    [string] $ResultPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
# 'a,b' arrives as one string under pwsh -File: split it.
$Scenario = @($Scenario -split ',' | ForEach-Object Trim | Where-Object { $_ })
$Path = @($Path -split ',' | ForEach-Object Trim | Where-Object { $_ })
$ThrottleLimit = @($ThrottleLimit -split ',' | ForEach-Object { [int]$_.Trim() })
foreach ($s in $Scenario) { if ($s -notin 'Limited', 'Loop', 'Unlimited') { throw "-Scenario takes Limited, Loop and Unlimited, not '$s'." } }
foreach ($p in $Path) { if ($p -notin 'Single', 'Bulk') { throw "-Path takes Single and Bulk, not '$p'." } }
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
if (-not $ModuleSource) { $ModuleSource = Join-Path $root 'out/KustomerSync/0.1.0' }
if (-not $EmulatorSource) { $EmulatorSource = Join-Path $root 'out/emulator' }
$scratch = Join-Path $root ".tmp/bench-upsert/$PID"
if (-not $ResultPath) { $ResultPath = Join-Path $root ".tmp/bench-upsert/results-$(Get-Date -Format 'yyyyMMdd-HHmmss').json" }

# Private copies: other engineers rebuild out/ on this machine.
New-Item -ItemType Directory -Force -Path (Join-Path $scratch 'KustomerSync'), (Join-Path $scratch 'emulator') | Out-Null
Copy-Item (Join-Path $ModuleSource '*') (Join-Path $scratch 'KustomerSync') -Recurse -Force
Copy-Item (Join-Path $EmulatorSource '*') (Join-Path $scratch 'emulator') -Recurse -Force
$emulatorDll = Join-Path $scratch 'emulator/KustomerSync.Emulator.dll'
Import-Module (Join-Path $root 'build/EmulatorProcess.psm1') -Force
Import-Module (Join-Path $PSScriptRoot 'PlainLoop.psm1') -Force
Import-Module (Join-Path $scratch 'KustomerSync/KustomerSync.psd1') -Force

$http = [System.Net.Http.HttpClient]::new()
$results = [System.Collections.Generic.List[object]]::new()
$keys = @{ Single = 'emulator-key'; Bulk = 'emulator-bulk-key' }

function New-Rows {
    param([int] $Count, [string] $Prefix, [int] $Version = 1)
    $tiers = 'gold', 'silver', 'bronze'
    $rows = [System.Collections.Generic.List[object]]::new($Count)
    for ($i = 1; $i -le $Count; $i++) {
        $rows.Add([pscustomobject]@{
                externalId       = "$Prefix-$i"
                name             = "Customer $i v$Version"
                email            = "$Prefix-$i@example.com"
                tierStr          = $tiers[($i + $Version) % 3]
                lifetimeValueNum = $i * 10 + $Version
            })
    }
    , $rows
}

function Get-EmulatorStats {
    param($Emulator)
    $http.GetStringAsync("$($Emulator.BaseUri)/_emulator/stats").GetAwaiter().GetResult() | ConvertFrom-Json -AsHashtable
}

function Get-RouteCount {
    param($Stats, [string] $Pattern)
    $sum = 0
    foreach ($entry in $Stats.byRoute.GetEnumerator()) { if ($entry.Key -like $Pattern) { $sum += $entry.Value } }
    $sum
}

function Start-Emulator {
    param([string[]] $Arguments)
    Start-KustomerEmulator -EmulatorDll $emulatorDll -Arguments (@('--search-rate-limit', '0') + $Arguments + $EmulatorArguments)
}

function Connect-Bench {
    param($Emulator, [string] $Key, [string] $Name)
    Set-Item "env:KS_BENCH_KEY_$Name" $Key
    Connect-KustomerDestination -BaseUri $Emulator.BaseUri -ApiKeyEnvironmentVariable "KS_BENCH_KEY_$Name" -Name $Name -SkipConnectionTest
}

function Invoke-ModuleRun {
    <# One Invoke-KustomerUpsert run; wall time from the first row into the pipeline to the summary. #>
    param($Emulator, [string] $Destination, $Rows, [int] $Throttle, [string] $Label)
    $before = Get-EmulatorStats $Emulator
    $statuses = @{}
    $summary = $null
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    # The output holds the results only; the summary comes through -SummaryVariable.
    $Rows | Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -Destination $Destination -ThrottleLimit $Throttle -SummaryVariable summary -ErrorAction SilentlyContinue 6>$null |
        ForEach-Object { $statuses[[string]$_.Status] = 1 + [int]$statuses[[string]$_.Status] }
    $watch.Stop()
    $after = Get-EmulatorStats $Emulator
    [pscustomobject]@{
        Label            = $Label
        Rows             = $Rows.Count
        Seconds          = [math]::Round($watch.Elapsed.TotalSeconds, 2)
        RowsPerSecond    = [math]::Round($Rows.Count / $watch.Elapsed.TotalSeconds, 1)
        Statuses         = ($statuses.GetEnumerator() | Sort-Object Key | ForEach-Object { "$($_.Key)=$($_.Value)" }) -join ' '
        Requests         = $after.totalRequests - $before.totalRequests
        SummaryRequests  = $summary.Requests
        RateLimited      = $summary.RateLimited
        Emulator429      = $after.rateLimited - $before.rateLimited
        BulkRequests     = (Get-RouteCount $after '*bulk*') - (Get-RouteCount $before '*bulk*')
        SummaryRowsPerSecond = $summary.RowsPerSecond
    }
}

function Invoke-LoopRun {
    <# What an admin would write (PlainLoop.psm1): lookup, then create or update, with a retry on 429 after the reset. #>
    param($Emulator, [string] $Key, $Rows, [string] $Label)
    $before = Get-EmulatorStats $Emulator
    $loop = Invoke-PlainLoop -BaseUri $Emulator.BaseUri -Key $Key -Rows $Rows
    $after = Get-EmulatorStats $Emulator
    [pscustomobject]@{
        Label            = $Label
        Rows             = $Rows.Count
        Seconds          = [math]::Round($loop.Seconds, 2)
        RowsPerSecond    = [math]::Round($Rows.Count / $loop.Seconds, 1)
        Statuses         = "Created=$($loop.Created) Updated=$($loop.Updated)"
        Requests         = $after.totalRequests - $before.totalRequests
        SummaryRequests  = $null
        RateLimited      = $loop.RateLimited
        Emulator429      = $after.rateLimited - $before.rateLimited
        BulkRequests     = 0
        SummaryRowsPerSecond = $null
    }
}

function Add-Result {
    param($Result, [string] $ScenarioName, [hashtable] $Extra = @{})
    foreach ($k in $Extra.Keys) { $Result | Add-Member -NotePropertyName $k -NotePropertyValue $Extra[$k] }
    $Result | Add-Member -NotePropertyName Scenario -NotePropertyValue $ScenarioName
    $results.Add($Result)
    $Result | Format-List | Out-String | Write-Host
}

$ceiling = $RateLimit / $RateWindowSeconds / 2
$limitArgs = @('--rate-limit', "$RateLimit", '--rate-window-seconds', "$RateWindowSeconds", '--latency-ms', "$LatencyMs")
$counter = 0
try {
    if ('Limited' -in $Scenario) {
        foreach ($p in $Path) {
            $emulator = Start-Emulator $limitArgs
            try {
                $name = "lim$((++$counter))"
                Connect-Bench $emulator $keys[$p] $name
                $extra = @{ Path = $p; Limit = "$RateLimit/$($RateWindowSeconds)s"; LatencyMs = $LatencyMs; Throttle = $LimitedThrottleLimit; CeilingRowsPerSecond = [math]::Round($ceiling, 2) }
                foreach ($run in @(@{ Label = 'fresh (lookup + create)'; Version = 1 }, @{ Label = 'update (lookup + PATCH)'; Version = 2 })) {
                    $rows = New-Rows -Count $LimitedRows -Prefix 'lim' -Version $run.Version
                    $r = Invoke-ModuleRun $emulator $name $rows $LimitedThrottleLimit "$p $($run.Label)"
                    # The ceiling of the path actually taken: limit / window / (requests per row). The single-record path
                    # is 2 requests a row; bulk writes make it less, so its own ceiling is higher.
                    $perRow = $r.Requests / $r.Rows
                    $pathCeiling = $RateLimit / $RateWindowSeconds / $perRow
                    $extra.RequestsPerRow = [math]::Round($perRow, 3)
                    $extra.CeilingRowsPerSecond = [math]::Round($pathCeiling, 2)
                    $extra.PercentOfCeiling = [math]::Round(100 * $r.RowsPerSecond / $pathCeiling, 1)
                    Add-Result $r 'Limited' $extra.Clone()
                }
            } finally { Stop-KustomerEmulator $emulator }
        }
    }

    if ('Loop' -in $Scenario) {
        $rows = New-Rows -Count $LoopRows -Prefix 'loop'
        $extra = @{ Path = 'Single'; Limit = "$RateLimit/$($RateWindowSeconds)s"; LatencyMs = $LatencyMs; Throttle = 1; CeilingRowsPerSecond = [math]::Round($ceiling, 2) }
        $emulator = Start-Emulator $limitArgs
        try {
            $r = Invoke-LoopRun $emulator 'emulator-key' $rows 'Invoke-RestMethod loop, fresh'
            $extra.PercentOfCeiling = [math]::Round(100 * $r.RowsPerSecond / $ceiling, 1)
            Add-Result $r 'Loop' $extra.Clone()
            $loopRate = $r.RowsPerSecond
        } finally { Stop-KustomerEmulator $emulator }
        $emulator = Start-Emulator $limitArgs
        try {
            $name = "loop$((++$counter))"
            Connect-Bench $emulator 'emulator-key' $name
            $extra.Throttle = $LimitedThrottleLimit
            $r = Invoke-ModuleRun $emulator $name $rows $LimitedThrottleLimit 'Invoke-KustomerUpsert, fresh'
            $extra.PercentOfCeiling = [math]::Round(100 * $r.RowsPerSecond / $ceiling, 1)
            $extra.RatioToLoop = [math]::Round($r.RowsPerSecond / $loopRate, 2)
            Add-Result $r 'Loop' $extra.Clone()
        } finally { Stop-KustomerEmulator $emulator }
    }

    if ('Unlimited' -in $Scenario) {
        foreach ($p in $Path) {
            foreach ($throttle in $ThrottleLimit) {
                $emulator = Start-Emulator @('--rate-limit', '0')
                try {
                    $name = "unl$((++$counter))"
                    Connect-Bench $emulator $keys[$p] $name
                    $extra = @{ Path = $p; Limit = 'none'; LatencyMs = 0; Throttle = $throttle }
                    $warm = Invoke-ModuleRun $emulator $name (New-Rows -Count $WarmupRows -Prefix 'warm') $throttle "$p warm-up"
                    Write-Host "warm-up: $($warm.RowsPerSecond) rows/s"
                    foreach ($run in @(@{ Label = 'fresh (lookup + create)'; Version = 1 }, @{ Label = 'update (lookup + PATCH)'; Version = 2 })) {
                        $rows = New-Rows -Count $UnlimitedRows -Prefix 'unl' -Version $run.Version
                        [GC]::Collect()
                        Add-Result (Invoke-ModuleRun $emulator $name $rows $throttle "$p $($run.Label)") 'Unlimited' $extra.Clone()
                    }
                } finally { Stop-KustomerEmulator $emulator }
            }
        }
    }
} finally {
    $http.Dispose()
    New-Item -ItemType Directory -Force -Path (Split-Path $ResultPath) | Out-Null
    $meta = [ordered]@{
        Date    = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm') + ' UTC'
        Nproc   = [Environment]::ProcessorCount
        Cpu     = ((Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', '')
        Runtime = [System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
        PowerShell = $PSVersionTable.PSVersion.ToString()
        Commit  = (& git -C $root rev-parse --short HEAD 2>$null)
        Results = $results
    }
    $meta | ConvertTo-Json -Depth 5 | Set-Content $ResultPath
    Write-Host "Machine: nproc=$($meta.Nproc), CPU '$($meta.Cpu)', $($meta.Runtime), PowerShell $($meta.PowerShell), commit $($meta.Commit), $($meta.Date)"
    Write-Host ''
    Write-Host '| Scenario | Path | Run | Limit | Latency | Throttle | Rows | Seconds | Rows/s | % of ceiling | Requests | 429 (summary/emulator) | Bulk requests | Outcomes |'
    Write-Host '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
    foreach ($r in $results) {
        $pct = if ($r.PSObject.Properties['PercentOfCeiling']) { "$($r.PercentOfCeiling)% of $($r.CeilingRowsPerSecond)" } else { '' }
        Write-Host "| $($r.Scenario) | $($r.Path) | $($r.Label) | $($r.Limit) | $($r.LatencyMs) ms | $($r.Throttle) | $($r.Rows) | $($r.Seconds) | $($r.RowsPerSecond) | $pct | $($r.Requests) | $($r.RateLimited)/$($r.Emulator429) | $($r.BulkRequests) | $($r.Statuses) |"
    }
    Write-Host "Results: $ResultPath"
    Remove-Item $scratch -Recurse -Force -ErrorAction SilentlyContinue
}
