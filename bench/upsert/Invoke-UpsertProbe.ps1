<#
.SYNOPSIS
    Where the single-record path's time goes, without PowerShell: the same rows (GET by externalId, then POST or PATCH)
    through plain HttpClient ("raw", the floor this machine and emulator allow) and through the engine's UpsertRun
    ("engine", what Invoke-KustomerUpsert drives), each on its own emulator with --rate-limit 0.
.EXAMPLE
    dotnet pwsh ./bench/upsert/Invoke-UpsertProbe.ps1 -Rows 20000 -Workers 8,16
#>
param([int] $Rows = 20000, [string[]] $Workers = @('8', '16'))
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$Workers = @($Workers -split ',' | ForEach-Object { [int]$_ })
$out = Join-Path $root '.tmp/bench-upsert/probe'
& dotnet build (Join-Path $PSScriptRoot 'UpsertProbe/UpsertProbe.csproj') -c Release --nologo -v q -clp:ErrorsOnly -o $out
if ($LASTEXITCODE -ne 0) { throw 'Building UpsertProbe failed.' }
Import-Module (Join-Path $root 'build/EmulatorProcess.psm1')
$probe = Join-Path $out 'UpsertProbe.dll'
foreach ($w in $Workers) {
    foreach ($mode in 'raw', 'engine') {
        $e = Start-KustomerEmulator -EmulatorDll (Join-Path $root 'out/emulator/KustomerSync.Emulator.dll') -Arguments '--rate-limit', '0'
        try {
            & dotnet $probe $e.BaseUri $mode 2000 $w warm | Out-Null
            & dotnet $probe $e.BaseUri $mode $Rows $w "p$w"
            & dotnet $probe $e.BaseUri $mode $Rows $w "p$w-u"
        } finally { Stop-KustomerEmulator $e }
    }
}
