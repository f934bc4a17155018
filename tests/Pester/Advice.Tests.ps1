# The engine's messages name concepts (the behaviour, the query's parameters), never a PowerShell parameter, because
# a .psd1 sync has none. Each cmdlet adds the advice in its own terms as ErrorDetails.RecommendedAction: parameters
# for Get-SourceRows and Invoke-KustomerUpsert, definition settings for Invoke-KustomerSync.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0'
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $env:KS_ADVICE_KEY = 'emulator-key'
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-advice-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $script:Db = Join-Path $script:Work 'people.db'
    Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Db" -Query "create table people (id text, full_name text); insert into people values ('adv-sync-1', 'Ada')" | Out-Null
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:KS_ADVICE_KEY -ErrorAction SilentlyContinue
}

Describe 'Errors: the message names the concept, the cmdlet gives the PowerShell advice' {
    It 'Get-SourceRows: a query placeholder that -Parameters does not supply' {
        $failure = $null
        try { Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Db" -Query 'select @since' } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.SourceMissingParameter,*'
        $failure.Exception.Message | Should -Match '@since'
        $failure.Exception.Message | Should -Not -Match '-Parameters'
        $failure.ErrorDetails.RecommendedAction | Should -Match '-Parameters'
    }

    It 'Invoke-KustomerUpsert: UpdateOnly meets a record that does not exist (the row is a result, not an error)' {
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KS_ADVICE_KEY -Name advice
        $result = [pscustomobject]@{ externalId = 'adv-upsert-1'; name = 'Nobody' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -Behavior UpdateOnly -Destination advice -WarningAction SilentlyContinue 6>$null
        $result.ErrorId | Should -Be 'KustomerSync.RecordNotFound'
        $result.Message | Should -Match 'the behaviour UpdateOnly does not create records'
        $result.Message | Should -Not -Match '-Behavior'
    }

    It 'Invoke-KustomerUpsert: a mapping to a field Kustomer does not have' {
        $failure = $null
        try {
            [pscustomobject]@{ externalId = 'adv-upsert-2'; name = 'Nobody' } |
                Invoke-KustomerUpsert -Object Customer -Mapping @{ noSuchField = 'name' } -Destination advice 6>$null
        } catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidMapping,*'
        $failure.Exception.Message | Should -Not -Match '-Mapping'
        $failure.ErrorDetails.RecommendedAction | Should -Match 'Fix -Mapping'
    }

    It 'Invoke-KustomerSync: the same row, with advice in terms of the definition' {
        $definition = Join-Path $script:Work 'update-only.sync.psd1'
        @"
@{
    Name = 'advice-update-only'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$script:Db'; Query = 'select id as externalId, full_name as name from people' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KS_ADVICE_KEY' }
    Object = 'Customer'
    SyncKey = 'ExternalId'
    Behavior = 'UpdateOnly'
    State = @{ Path = 'update-only.state.db' }
}
"@ | Set-Content -Path $definition
        Invoke-KustomerSync -Path $definition -ErrorVariable rowErrors -ErrorAction SilentlyContinue 6>$null | Out-Null
        $notFound = @($rowErrors | Where-Object FullyQualifiedErrorId -Like 'KustomerSync.RecordNotFound*')
        $notFound.Count | Should -Be 1
        $notFound[0].Exception.Message | Should -Not -Match '-Behavior'
        $notFound[0].ErrorDetails.RecommendedAction | Should -Match "Behavior = 'UpdateOrCreate'"
        $notFound[0].ErrorDetails.RecommendedAction | Should -Not -Match '-Behavior'
    }
}
