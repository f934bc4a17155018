<#
.SYNOPSIS
    Runs one KustomerSync definition for a scheduler and exits with its code: 0 all rows succeeded, 2 some rows
    were Invalid or Failed, 1 the run failed or a guard against a broken source refused it.

.DESCRIPTION
    For Windows Task Scheduler, cron, SQL Agent or CI:

        pwsh -NoProfile -NonInteractive -File Invoke-ScheduledSync.ps1 -Path D:\Sync\customers.sync.psd1

    Written for logs, not for a console: one plain line per rejected row ("REJECTED row 4 key 'crm-7' InvalidValue:
    ..."), then the summary, and one line with the error when the run failed; nothing is coloured or spread over
    several lines, so a redirected log stays greppable. With -LogPath every run, failed ones included, is appended as
    one JSON line. Per-row outcomes are also in the state store (Get-KustomerSyncRun). Anything that stops the run,
    including a failure to load the module, ends with exit code 1. Secrets are never written: the definition names
    where they come from, not what they are.

    The module must be where PowerShell finds it by name: `dotnet pwsh ./build.ps1 -Task Install` copies it into the
    current user's module folder (the first folder of $env:PSModulePath), which a scheduled task running as that
    user finds too.

.PARAMETER Path
    The sync definition (.psd1).

.PARAMETER FullSync
    Ignore the stored hashes for this run and write every row again.

.PARAMETER Force
    Run even when a guard against a broken source would refuse the run (an empty or shrunken source, too many changes,
    a field about to be cleared). For the one run after you checked the source, not for the schedule.

.PARAMETER LogPath
    A file to append each run's outcome to, as one line of JSON: the counts, the exit code and, for a failed run, the
    ErrorId and message.

.EXAMPLE
    pwsh -NoProfile -NonInteractive -File .\Invoke-ScheduledSync.ps1 -Path .\customers.sync.psd1 -LogPath .\sync.log.jsonl
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Path,
    [switch] $FullSync,
    [switch] $Force,
    [string] $LogPath
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$summary = $null

function Write-RunLog([int] $Code, $ErrorRecord) {
    if (-not $LogPath) { return }
    $entry = [ordered]@{ Time = (Get-Date).ToUniversalTime().ToString('o'); Path = $Path; ExitCode = $Code }
    if ($summary) {
        foreach ($name in 'Sync', 'RunId', 'Total', 'Created', 'Updated', 'Unchanged', 'Invalid', 'Failed', 'Requests') { $entry[$name] = $summary.$name }
        $entry.Seconds = [math]::Round($summary.Elapsed.TotalSeconds, 1)
        if ($summary.GuardsTripped) { $entry.GuardsTripped = $summary.GuardsTripped }
    }
    if ($ErrorRecord) {
        $entry.ErrorId = $ErrorRecord.FullyQualifiedErrorId -replace ',.*$', ''
        $entry.Message = $ErrorRecord.Exception.Message
    }
    [pscustomobject]$entry | ConvertTo-Json -Compress | Add-Content -Path $LogPath
}

try {
    Import-Module KustomerSync
    # -PassThru: every row is a result (and a rejected row only that, never also an error record).
    Invoke-KustomerSync -Path $Path -FullSync:$FullSync -Force:$Force -PassThru -SummaryVariable summary 6>$null |
        Where-Object { -not $_.IsSuccess } |
        ForEach-Object { "REJECTED row $($_.Row) key '$($_.Key)' $($_.ErrorId -replace '^KustomerSync\.', ''): $($_.Message -replace '\s+', ' ')" }
    $code = $LASTEXITCODE
    "$summary"
    $summary | Format-List | Out-String -Width 200 | Write-Output
    Write-RunLog $code $null
    exit $code
} catch {
    if ($summary) { "$summary" }
    [Console]::Error.WriteLine("FAILED $($_.FullyQualifiedErrorId -replace ',.*$', ''): $($_.Exception.Message -replace '\s+', ' ')")
    try { Write-RunLog 1 $_ } catch { [Console]::Error.WriteLine("The log could not be written: $($_.Exception.Message)") }
    exit 1
}
