# Loads the cmdlet assembly built for this edition. On PowerShell 7 the cmdlets resolve the engine and its
# dependencies into a private AssemblyLoadContext (see src/KustomerSync.Cmdlets/Loading), so other modules'
# versions of Npgsql, Microsoft.Data.Sqlite and friends cannot clash with ours.
$edition = if ($PSEdition -eq 'Core') { 'Core' } else { 'Desktop' }
$assembly = Join-Path -Path $PSScriptRoot -ChildPath "$edition/KustomerSync.Cmdlets.dll"
if (-not (Test-Path -LiteralPath $assembly)) {
    throw "KustomerSync is missing '$assembly'. Reinstall the module, or run ./build.ps1 -Task Build from a source checkout."
}
Import-Module -Name $assembly -ErrorAction Stop
Export-ModuleMember -Cmdlet (Get-Command -Module KustomerSync.Cmdlets -CommandType Cmdlet).Name
