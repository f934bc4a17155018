# DESIGN.md §3: admins load SqlServer, dbatools and Az beside this module, each with its own versions of shared
# dependencies. The engine loads in a private AssemblyLoadContext, so an older Microsoft.Data.Sqlite already in the
# session must not stop a sync. Runs in a child process so the old assembly does not leak into other suites.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL
}

AfterAll { Stop-KustomerEmulator $script:Emulator }

Describe 'Dependency isolation' {
    It 'syncs from SQLite after another version of Microsoft.Data.Sqlite was loaded first' {
        $env:KUSTOMERSYNC_ISOLATION_URI = $script:Emulator.BaseUri
        $script = {
            $ErrorActionPreference = 'Stop'
            Add-Type -Path $env:KUSTOMERSYNC_OLD_SQLITE_DLL
            $old = [Microsoft.Data.Sqlite.SqliteConnection].Assembly.GetName().Version
            Import-Module $env:KUSTOMERSYNC_MODULE_PATH
            $env:ISOLATION_KEY = 'emulator-key'
            Connect-KustomerDestination -BaseUri $env:KUSTOMERSYNC_ISOLATION_URI -ApiKeyEnvironmentVariable ISOLATION_KEY
            $db = Join-Path ([System.IO.Path]::GetTempPath()) "iso-$PID.db"
            Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$db" -Query "create table t(externalId text, name text); insert into t values ('iso-1','Isolated One'),('iso-2','Isolated Two')" | Out-Null
            Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$db" -Query 'select * from t' |
                Invoke-KustomerUpsert -Object Customer -SummaryVariable summary 6>$null | Out-Null
            $versions = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Microsoft.Data.Sqlite' } |
                ForEach-Object { '{0}@{1}' -f $_.GetName().Version, [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }
            [pscustomobject]@{ Old = "$old"; Created = $summary.Created; Versions = $versions -join ';' } | ConvertTo-Json -Compress
        }
        $json = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script.ToString()
        $LASTEXITCODE | Should -Be 0
        $outcome = ($json | Select-Object -Last 1) | ConvertFrom-Json
        $outcome.Old | Should -BeLike '8.*'
        $outcome.Created | Should -Be 2
        $outcome.Versions | Should -Match '8\.0\.\d+\.\d+@Default'
        $outcome.Versions | Should -Match '10\.0\.\d+\.\d+@KustomerSync.Engine'
    }
}
