<#
.SYNOPSIS
    An Azure Automation runbook that runs one KustomerSync definition and ends the job the way Automation reads it.

.DESCRIPTION
    In a runbook exit codes mean nothing: Azure Automation marks a job Failed only when the runbook ends on a
    terminating error it did not catch. This runbook therefore:

      - ends the job Failed when the run fails (a refused key, an unreachable source, the state store, an outage) or a
        guard against a broken source refuses it (KustomerSync.GuardTripped: an empty or shrunken source, too many
        changes, a field about to be cleared): the error is rethrown as it came, so the job's exception carries the
        KustomerSync ErrorId and message;
      - leaves the job Completed when only some rows were rejected: each rejected row is one record in the job's Error
        stream (at most 100, then one warning with how many more and how to list them), so Azure Monitor alert rules
        on the Error stream see them;
      - writes one line to the Output stream, the run's summary, and no result per row: a job's streams hold at most
        1 MiB, which a 100,000-row run with one result per row would exceed.

    Import the module zip (`dotnet pwsh ./build.ps1 -Task Package`) into the Automation account, create the assets the
    definition names (a credential 'Kustomer' with the API key as password, a variable for the state database's
    connection string), and publish this runbook beside the definition. Keep the state in a database table
    (State.Provider SqlServer or Postgres): the sandbox keeps no disk between jobs.

.PARAMETER DefinitionPath
    The sync definition (.psd1); by default customers.sync.psd1 beside this runbook.

.PARAMETER Force
    Run even when a guard would refuse the run: start the runbook once with Force after checking the source, not on
    the schedule.
#>
param(
    [string] $DefinitionPath = (Join-Path $PSScriptRoot 'customers.sync.psd1'),
    [switch] $Force
)

# Automation's PowerShell 7 runtime does not honour the account's logging settings: choose them here.
$ProgressPreference = 'SilentlyContinue'
$VerbosePreference = 'SilentlyContinue'

Import-Module KustomerSync

try {
    # A failed run is a terminating error of this statement: rethrowing it fails the job. Rejected rows are
    # non-terminating errors: they reach the Error stream and the runbook goes on.
    # The summary's host line is left out (6>$null) and written once to Output below.
    Invoke-KustomerSync -Path $DefinitionPath -Force:$Force -SummaryVariable summary 6>$null
}
catch {
    throw
}
if ($summary) { Write-Output "KustomerSync: $summary" }
