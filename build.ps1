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
    Emulator  Runs the Kustomer emulator on http://127.0.0.1:5080 (-Port) so you can rehearse a sync: in the foreground
              until Ctrl+C, or with -Background detached, until -Task StopEmulator. Builds only what is out of date.
    StopEmulator  Stops the emulator that -Task Emulator -Background started.
    Install   Builds (when out of date) and copies the module into the current user's module folder, the first folder
              of $env:PSModulePath, so `Import-Module KustomerSync` and scheduled tasks running as this user find it.

.PARAMETER Task
    Build, Test, Demo, Package, Emulator, StopEmulator or Install. Default: Build.

.PARAMETER Configuration
    Release (default) or Debug.

.PARAMETER EmulatorArguments
    Extra arguments for the emulator with -Task Emulator, as one string, for example '--rate-limit 100 --latency-ms 50'
    (one string reads the same in bash, cmd and PowerShell).

.PARAMETER Port
    The loopback port of the emulator with -Task Emulator. Default: 5080.

.PARAMETER Background
    With -Task Emulator: start it detached and return once it answers; -Task StopEmulator stops it.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo

    Builds the module and runs the end-to-end demo against the local emulator.

.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

    Runs every test and prints 'N passed, N failed'.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Emulator

    Runs the emulator on port 5080 until Ctrl+C; connect with
    Connect-KustomerDestination -BaseUri http://127.0.0.1:5080 -ApiKeyEnvironmentVariable KUSTOMER_KEY.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Emulator -Background -EmulatorArguments '--rate-limit 100'
    dotnet pwsh ./build.ps1 -Task StopEmulator

    Starts the emulator detached (its log in .tmp/emulator/), then stops it.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Package', 'Emulator', 'StopEmulator', 'Install')]
    [string] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [string] $EmulatorArguments = '',

    [ValidateRange(1, 65535)]
    [int] $Port = 5080,

    [switch] $Background
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

Import-Module (Join-Path $Root 'build/EmulatorProcess.psm1') -Force
$emulatorState = Join-Path $settings.Scratch 'emulator'

# True when every input of the build is older than its output: no rebuild (and no DLL replaced under a session
# that has the module loaded).
function Test-BuildCurrent([string[]] $Inputs, [string] $Output) {
    if (-not (Test-Path -LiteralPath $Output)) { return $false }
    $folder = Split-Path -LiteralPath $Output
    $built = (Get-ChildItem -LiteralPath $folder -Recurse -File | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
    $newer = Get-ChildItem -Path $Inputs -Recurse -File -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' -and $_.LastWriteTimeUtc -gt $built } | Select-Object -First 1
    -not $newer
}
$moduleInputs = @('src', 'module', 'docs/cmdlets', 'KustomerSync.psd1', 'Directory.Build.props') | ForEach-Object { Join-Path $Root $_ }
$moduleOutput = Join-Path $settings.ModuleRoot 'KustomerSync.psd1'

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
        if (-not (Test-BuildCurrent -Inputs (Join-Path $Root 'src/KustomerSync.Emulator') -Output $settings.EmulatorDll)) {
            Invoke-Native dotnet @('publish', (Join-Path $Root 'src/KustomerSync.Emulator/KustomerSync.Emulator.csproj'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-o', (Split-Path $settings.EmulatorDll))
        }
        $uri = "http://127.0.0.1:$Port"
        $extra = @($EmulatorArguments -split '\s+' | Where-Object { $_ })
        if (-not $Background) {
            Write-Host "Kustomer emulator on $uri (key: emulator-key); Ctrl+C stops it." -ForegroundColor Cyan
            & dotnet $settings.EmulatorDll --urls $uri @extra
            exit $LASTEXITCODE
        }
        $pidFile = Join-Path $emulatorState 'emulator.pid'
        if ((Test-Path $pidFile) -and (Get-Process -Id ([int](Get-Content $pidFile)) -ErrorAction SilentlyContinue)) {
            throw "An emulator started by this script is already running (process $(Get-Content $pidFile)); stop it with -Task StopEmulator."
        }
        New-Item -ItemType Directory -Path $emulatorState -Force | Out-Null
        # The process started is the emulator itself (no wrapper), so its id is the one to stop.
        $process = Start-Process -FilePath dotnet -ArgumentList (@($settings.EmulatorDll, '--urls', $uri) + $extra) -PassThru `
            -RedirectStandardOutput (Join-Path $emulatorState 'emulator.log') -RedirectStandardError (Join-Path $emulatorState 'emulator.err.log')
        Set-Content -Path $pidFile -Value $process.Id
        if (-not (Wait-KustomerEmulator -BaseUri $uri -Process $process)) {
            throw "The emulator did not start; see $(Join-Path $emulatorState 'emulator.err.log')."
        }
        Write-Host "Kustomer emulator on $uri (key: emulator-key), process $($process.Id). Stop it with: dotnet pwsh ./build.ps1 -Task StopEmulator" -ForegroundColor Cyan
    }
    'StopEmulator' {
        $pidFile = Join-Path $emulatorState 'emulator.pid'
        if (-not (Test-Path $pidFile)) { Write-Host 'No emulator started with -Background is recorded.'; return }
        $process = Get-Process -Id ([int](Get-Content $pidFile)) -ErrorAction SilentlyContinue
        if ($process) {
            $process.Kill($true)
            $process.WaitForExit(10000) | Out-Null
            Write-Host "Stopped the emulator (process $($process.Id))."
        } else {
            Write-Host 'The recorded emulator is not running any more.'
        }
        Remove-Item $pidFile
    }
    'Install' {
        if (-not (Test-BuildCurrent -Inputs $moduleInputs -Output $moduleOutput)) { Invoke-Build -Settings $settings }
        $userModules = ($env:PSModulePath -split [System.IO.Path]::PathSeparator | Where-Object { $_ })[0]
        $target = Join-Path $userModules "KustomerSync/$($settings.Version)"
        if (Test-Path $target) { Remove-Item $target -Recurse -Force }
        New-Item -ItemType Directory -Path $target -Force | Out-Null
        Copy-Item (Join-Path $settings.ModuleRoot '*') $target -Recurse
        Write-Host "Installed KustomerSync $($settings.Version) in $target; Import-Module KustomerSync loads it." -ForegroundColor Cyan
    }
}
