<#
.SYNOPSIS
    The front door for building, testing, demonstrating and packaging KustomerSync.

.DESCRIPTION
    One script for every task, run with the PowerShell that `dotnet tool restore` installs:

        dotnet tool restore && dotnet pwsh ./build.ps1 -Task <Task>

    Build     Compiles the solution and lays out the module in out/KustomerSync/<version>/ (Core build for
              PowerShell 7 with its engine isolated in dependencies/, Desktop build for Windows PowerShell 5.1),
              generates the MAML help, and publishes the Kustomer emulator to out/emulator/.
    Test      Builds, starts Postgres and MariaDB in private data folders on loopback ports (where installed),
              runs every xunit project and the Pester suites, and ends with one line 'N passed, N failed'.
              Exits non-zero on any failure or when no test ran. Under CI=true a missing server is a failure.
    Demo      Builds, starts the emulator on a free loopback port, creates a sample SQLite database of customers,
              syncs it into the emulator twice, prints both summaries and stops the emulator.
    Package   Builds and zips out/KustomerSync into out/KustomerSync-<version>.zip, the file Azure Automation
              imports (checked against its 100 MB limit).
    Emulator  Builds and runs the Kustomer emulator in the foreground so you can rehearse a sync; Ctrl+C stops it.

.PARAMETER Task
    Build, Test, Demo, Package or Emulator. Default: Build.

.PARAMETER Configuration
    Release (default) or Debug.

.PARAMETER EmulatorArguments
    Extra arguments for the emulator with -Task Emulator, for example '--rate-limit','100','--latency-ms','50'.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo

    Builds the module and runs the end-to-end demo against the local emulator.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

    Runs every test and prints 'N passed, N failed'.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Emulator -EmulatorArguments '--urls','http://127.0.0.1:5080'

    Runs the emulator on port 5080 until Ctrl+C; connect with
    Connect-KustomerDestination -BaseUri http://127.0.0.1:5080 -ApiKeyEnvironmentVariable KUSTOMER_KEY.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Package', 'Emulator')]
    [string] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [string[]] $EmulatorArguments = @()
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
Import-Module (Join-Path $Root 'build/BuildTasks.psm1') -Force

$manifest = Import-PowerShellDataFile (Join-Path $Root 'KustomerSync.psd1')
$settings = [pscustomobject]@{
    Root          = $Root
    Configuration = $Configuration
    Version       = $manifest.ModuleVersion
    ModuleRoot    = Join-Path $Root "out/KustomerSync/$($manifest.ModuleVersion)"
    EmulatorDll   = Join-Path $Root 'out/emulator/KustomerSync.Emulator.dll'
    Scratch       = Join-Path $Root '.tmp'
}

switch ($Task) {
    'Build' { Invoke-Build -Settings $settings }
    'Test' {
        Invoke-Build -Settings $settings
        exit (Invoke-AllTests -Settings $settings)
    }
    'Demo' {
        Invoke-Build -Settings $settings
        & (Join-Path $Root 'build/Demo.ps1') -ModulePath (Join-Path $Root 'out/KustomerSync') -EmulatorDll $settings.EmulatorDll -WorkFolder (Join-Path $settings.Scratch 'demo')
        exit $LASTEXITCODE
    }
    'Package' {
        Invoke-Build -Settings $settings
        New-ModulePackage -Settings $settings
    }
    'Emulator' {
        Invoke-Build -Settings $settings
        & dotnet $settings.EmulatorDll @EmulatorArguments
        exit $LASTEXITCODE
    }
}
