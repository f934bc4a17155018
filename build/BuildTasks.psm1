# The tasks behind build.ps1. Each function takes the settings object build.ps1 makes.

function Invoke-Native {
    # Runs a native command and stops the build when it fails.
    param([Parameter(Mandatory)] [string] $Command, [Parameter(Mandatory)] [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Invoke-Build {
    param([Parameter(Mandatory)] $Settings)
    $root = $Settings.Root
    Write-Host "Building KustomerSync $($Settings.Version) ($($Settings.Configuration))" -ForegroundColor Cyan
    Invoke-Native dotnet @('build', (Join-Path $root 'KustomerSync.sln'), '-c', $Settings.Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')

    $cmdlets = Join-Path $root 'src/KustomerSync.Cmdlets/KustomerSync.Cmdlets.csproj'
    $publishCore = Join-Path $Settings.Scratch 'publish/core'
    $publishDesktop = Join-Path $Settings.Scratch 'publish/desktop'
    foreach ($folder in $publishCore, $publishDesktop, $Settings.ModuleRoot) {
        if (Test-Path $folder) { Remove-Item $folder -Recurse -Force }
    }
    Invoke-Native dotnet @('publish', $cmdlets, '-c', $Settings.Configuration, '-f', 'net8.0', '--no-build', '--nologo', '-v', 'quiet', '-o', $publishCore)
    Invoke-Native dotnet @('publish', $cmdlets, '-c', $Settings.Configuration, '-f', 'net472', '--no-build', '--nologo', '-v', 'quiet', '-o', $publishDesktop)

    New-Item -ItemType Directory -Path $Settings.ModuleRoot -Force | Out-Null
    Copy-Item (Join-Path $root 'KustomerSync.psd1') $Settings.ModuleRoot
    Copy-Item (Join-Path $root 'module/*') $Settings.ModuleRoot -Recurse
    Copy-ModuleEdition -PublishFolder $publishCore -Destination (Join-Path $Settings.ModuleRoot 'Core')
    Copy-ModuleEdition -PublishFolder $publishDesktop -Destination (Join-Path $Settings.ModuleRoot 'Desktop')
    Export-ModuleHelp -Settings $Settings

    Invoke-Native dotnet @('publish', (Join-Path $root 'src/KustomerSync.Emulator/KustomerSync.Emulator.csproj'), '-c', $Settings.Configuration, '--no-build', '--nologo', '-v', 'quiet', '-o', (Split-Path $Settings.EmulatorDll))
    Write-Host "Module: $($Settings.ModuleRoot)" -ForegroundColor Cyan
}

function Copy-ModuleEdition {
    # The cmdlets and the user-visible types sit in the edition folder; the engine and every dependency go to
    # dependencies/, out of PowerShell's probing path, where the module's own resolver finds them.
    param([string] $PublishFolder, [string] $Destination)
    $dependencies = Join-Path $Destination 'dependencies'
    New-Item -ItemType Directory -Path $dependencies -Force | Out-Null
    $shared = 'KustomerSync.Cmdlets.dll', 'KustomerSync.Model.dll'
    foreach ($item in Get-ChildItem $PublishFolder) {
        if ($item.Name -in $shared) { Copy-Item $item.FullName $Destination }
        elseif ($item.Extension -in '.json', '.pdb', '.xml') { continue }
        else { Copy-Item $item.FullName $dependencies -Recurse }
    }
}

function Export-ModuleHelp {
    # MAML help for the cmdlets, generated from docs/cmdlets/*.md in a child process (it imports the module).
    param([Parameter(Mandatory)] $Settings)
    $script = Join-Path $Settings.Root 'build/HelpBuilder.ps1'
    if (-not (Test-Path $script)) { Write-Warning 'build/HelpBuilder.ps1 is missing: no MAML help built.'; return }
    Invoke-Native dotnet @('pwsh', '-NoProfile', '-NonInteractive', '-File', $script, '-ModuleRoot', $Settings.ModuleRoot, '-SourceFolder', (Join-Path $Settings.Root 'docs/cmdlets'))
}

function New-ModulePackage {
    param([Parameter(Mandatory)] $Settings)
    $zip = Join-Path $Settings.Root "out/KustomerSync-$($Settings.Version).zip"
    if (Test-Path $zip) { Remove-Item $zip -Force }
    # Azure Automation wants the module folder at the zip's root, named like the module, without a version folder.
    $staging = Join-Path $Settings.Scratch 'package/KustomerSync'
    if (Test-Path $staging) { Remove-Item $staging -Recurse -Force }
    New-Item -ItemType Directory -Path $staging -Force | Out-Null
    Copy-Item (Join-Path $Settings.ModuleRoot '*') $staging -Recurse
    Compress-Archive -Path $staging -DestinationPath $zip
    $size = (Get-Item $zip).Length
    $limit = 100MB
    if ($size -gt $limit) { throw "The package is $([math]::Round($size / 1MB, 1)) MB; Azure Automation imports at most 100 MB." }
    Write-Host ("Package: {0} ({1:N1} MB of Azure Automation's 100 MB limit)" -f $zip, ($size / 1MB)) -ForegroundColor Cyan
}

function Invoke-AllTests {
    # Every xunit project, then the Pester suites in a child process (so the module's DLLs load fresh), with the
    # database servers running for both. Returns the exit code. Whatever happens, the servers are stopped and the
    # output ends with the skips named ('N skipped: <why>') and then, last, one line 'N passed, N failed'.
    param([Parameter(Mandatory)] $Settings)
    $results = Join-Path $Settings.Scratch 'test-results'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory -Path $results -Force | Out-Null
    Import-Module (Join-Path $Settings.Root 'tests/servers/TestServers.psm1') -Force
    $passed = 0
    $failed = 0
    $problems = [System.Collections.Generic.List[string]]::new()
    $skipReasons = [System.Collections.Generic.List[string]]::new()
    $missing = @()
    try {
        $servers = Start-TestServers
        $missing = $servers.Missing
        foreach ($problem in $servers.Problems) { $problems.Add($problem) }

        foreach ($project in Get-ChildItem (Join-Path $Settings.Root 'tests') -Recurse -Filter '*.Tests.csproj') {
            Write-Host "xunit: $($project.BaseName)" -ForegroundColor Cyan
            $trx = Join-Path $results "$($project.BaseName).trx"
            & dotnet test $project.FullName -c $Settings.Configuration --no-build --nologo -v quiet --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' | Out-Host
            if (-not (Test-Path $trx)) { $problems.Add("$($project.BaseName) produced no results (exit code $LASTEXITCODE)"); continue }
            $run = ([xml](Get-Content $trx -Raw)).TestRun
            $counters = $run.ResultSummary.Counters
            $passed += [int]$counters.passed
            $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
            # The counters leave skipped tests out (notExecuted stays 0): they are the results marked NotExecuted.
            foreach ($result in @($run.Results.UnitTestResult)) {
                if ($result.outcome -eq 'NotExecuted') { $skipReasons.Add($result.Output.ErrorInfo.Message) }
            }
        }

        Write-Host 'Pester' -ForegroundColor Cyan
        $pesterResult = Join-Path $results 'pester.json'
        & dotnet pwsh -NoProfile -NonInteractive -File (Join-Path $Settings.Root 'tests/Pester/Invoke-PesterSuites.ps1') -ModulePath (Split-Path $Settings.ModuleRoot) -EmulatorDll $Settings.EmulatorDll -ResultPath $pesterResult | Out-Host
        if (Test-Path $pesterResult) {
            $pester = Get-Content $pesterResult -Raw | ConvertFrom-Json
            $passed += $pester.Passed
            $failed += $pester.Failed
            foreach ($reason in @($pester.Skips)) { $skipReasons.Add($reason) }
        } else {
            $problems.Add("Pester produced no results (exit code $LASTEXITCODE)")
        }
    } catch {
        $problems.Add("The test task stopped early: $_")
    } finally {
        Stop-TestServers
    }
    foreach ($problem in $problems) { Write-Host "ERROR: $problem" -ForegroundColor Red }
    foreach ($line in Get-SkipSummary -Reasons $skipReasons -Missing $missing) { Write-Host $line -ForegroundColor Yellow }
    $failed += $problems.Count
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { return 1 }
    0
}

function Get-SkipSummary {
    # One line per reason, most first: 'N skipped: <reason>'. A skip for want of a server that is not installed is
    # named by that server and how to install it.
    param([string[]] $Reasons, [object[]] $Missing)
    $labels = foreach ($reason in $Reasons) {
        $server = $Missing | Where-Object { $reason -and $reason.Contains($_.Variable) } | Select-Object -First 1
        if ($server) { "$($server.Name) not installed ($($server.Hint))" }
        elseif ($reason) { ($reason -split '\r?\n')[0].Trim() }
        else { 'no reason given' }
    }
    foreach ($group in $labels | Group-Object | Sort-Object @{ Expression = 'Count'; Descending = $true }, Name) {
        "$($group.Count) skipped: $($group.Name)"
    }
}

Export-ModuleMember -Function Invoke-Native, Invoke-Build, New-ModulePackage, Invoke-AllTests
