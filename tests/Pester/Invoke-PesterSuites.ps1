<#
.SYNOPSIS
    Runs every tests/Pester/*.Tests.ps1 suite against the built module and writes the counts to -ResultPath.
.DESCRIPTION
    Called by build.ps1 -Task Test in a child process. Pester comes from NuGet (PesterTools.csproj) because the
    PowerShell Gallery is not reachable on these machines.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $EmulatorDll,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'

& dotnet restore (Join-Path $PSScriptRoot 'PesterTools.csproj') --nologo -v quiet | Out-Null
if ($LASTEXITCODE -ne 0) { throw 'Restoring Pester from NuGet failed.' }
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else {
    ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
}
Import-Module (Join-Path $packages 'pester/5.7.1/tools/Pester.psd1') -Force

$env:KUSTOMERSYNC_MODULE_PATH = (Resolve-Path $ModulePath).Path
$env:KUSTOMERSYNC_EMULATOR_DLL = (Resolve-Path $EmulatorDll).Path
$env:KUSTOMERSYNC_OLD_SQLITE_DLL = Join-Path $packages 'microsoft.data.sqlite.core/8.0.30/lib/net8.0/Microsoft.Data.Sqlite.dll'

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$result = Invoke-Pester -Configuration $configuration

# Why each skipped test was skipped, for the summary's 'N skipped: <why>' lines. Suites that need a test server
# tag their blocks Postgres or MariaDB and skip them when its variable is not set.
$serverVariables = [ordered]@{ Postgres = 'KUSTOMERSYNC_TEST_POSTGRES'; MariaDB = 'KUSTOMERSYNC_TEST_MYSQL' }
$skips = foreach ($test in $result.Skipped) {
    $tags = @($test.Tag)
    for ($block = $test.Block; $block; $block = $block.Parent) { $tags += $block.Tag }
    $server = $serverVariables.Keys | Where-Object { $tags -contains $_ -and -not [Environment]::GetEnvironmentVariable($serverVariables[$_]) } | Select-Object -First 1
    if ($test.ErrorRecord.Count) { $test.ErrorRecord[0].Exception.Message -replace '^is skipped, because ', '' }
    elseif ($server) { "needs $server ($($serverVariables[$server]) is not set)" }
    else { "no reason given ($(Split-Path $test.ScriptBlock.File -Leaf): $($test.ExpandedPath))" }
}

[pscustomobject]@{
    Passed = $result.PassedCount
    Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount
    Skips = @($skips)
} | ConvertTo-Json | Set-Content -Path $ResultPath
