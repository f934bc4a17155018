<#
.SYNOPSIS
    Runs one KustomerSync definition for a scheduler and exits with its code: 0 all rows succeeded, 2 some rows
    were Invalid or Failed, 1 the run failed.

.DESCRIPTION
    For Windows Task Scheduler, cron, SQL Agent or CI:

        pwsh -NoProfile -NonInteractive -File Invoke-ScheduledSync.ps1 -Path D:\Sync\customers.sync.psd1

    The summary is written to the output (and to -LogPath, appended as one JSON line per run, when given), so the
    scheduler's history stays small; per-row outcomes are in the state store (Get-KustomerSyncRun). Anything that stops
    the run, including a failure to load the module, ends with exit code 1 and the error on stderr. Secrets are never
    written: the definition names where they come from, not what they are.

.PARAMETER Path
    The sync definition (.psd1).

.PARAMETER FullSync
    Ignore the stored hashes for this run and write every row again.

.PARAMETER LogPath
    A file to append the run's summary to, as one line of JSON.

.EXAMPLE
    pwsh -NoProfile -NonInteractive -File .\Invoke-ScheduledSync.ps1 -Path .\customers.sync.psd1 -LogPath .\sync.log.jsonl
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Path,
    [switch] $FullSync,
    [string] $LogPath
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
try {
    Import-Module KustomerSync
    $summary = Invoke-KustomerSync -Path $Path -FullSync:$FullSync -ErrorAction Continue
    $code = $LASTEXITCODE
    $summary | Format-List | Out-String -Width 200 | Write-Output
    if ($LogPath) {
        $summary | Select-Object @{ n = 'Time'; e = { (Get-Date).ToUniversalTime().ToString('o') } }, Sync, RunId, Total, Created, Updated,
            Unchanged, Invalid, Failed, Requests, @{ n = 'ExitCode'; e = { $code } }, @{ n = 'Seconds'; e = { [math]::Round($_.Elapsed.TotalSeconds, 1) } } |
            ConvertTo-Json -Compress | Add-Content -Path $LogPath
    }
    exit $code
} catch {
    [Console]::Error.WriteLine("$($_.FullyQualifiedErrorId): $($_.Exception.Message)")
    exit 1
}
