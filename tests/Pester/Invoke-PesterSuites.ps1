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

[pscustomobject]@{
    Passed = $result.PassedCount
    Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount
} | ConvertTo-Json | Set-Content -Path $ResultPath
