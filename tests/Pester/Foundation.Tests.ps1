# The foundation end to end: the built module loads isolated, connects, tests the key, reads SQLite, upserts into
# the emulator, reports every row once, and never shows the API key.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    $script:SecretKey = 'ks-test-' + [guid]::NewGuid().ToString('N')
    $keysFile = Join-Path ([System.IO.Path]::GetTempPath()) "keys-$([guid]::NewGuid().ToString('N')).json"
    @{ keys = @(
            @{ key = $script:SecretKey; name = 'pester sync key'; roles = @('org.admin.klass.read', 'org.user.kobject.read', 'org.admin.metadata.read',
                    'org.admin.search.read', 'org.user.customer.write', 'org.user.kobject.write', 'org.permission.customer', 'org.permission.company') }
            @{ key = 'ks-expired-key'; name = 'expired'; roles = @('org.permission.customer'); expired = $true }
            @{ key = 'ks-read-only'; name = 'metadata only'; roles = @('org.admin.metadata.read') }
        ) } | ConvertTo-Json -Depth 5 | Set-Content $keysFile
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile
    $script:Http = [System.Net.Http.HttpClient]::new()
    $script:Http.BaseAddress = [uri]$script:Emulator.BaseUri
    function script:Get-EmulatorCustomers {
        $state = $script:Http.GetStringAsync('/_emulator/state').GetAwaiter().GetResult() | ConvertFrom-Json -Depth 20
        @($state.customers.items | ForEach-Object attributes)
    }
    function script:Reset-Emulator { $script:Http.PostAsync('/_emulator/reset', $null).GetAwaiter().GetResult() | Out-Null }

    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $env:KUSTOMERSYNC_PESTER_KEY = $script:SecretKey
    $script:Database = Join-Path ([System.IO.Path]::GetTempPath()) "pester-$([guid]::NewGuid().ToString('N')).db"
    Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Database" -Query @'
create table people (id text, full_name text, email text, plan text, ltv numeric);
insert into people values ('p-1', 'Ada Lovelace', 'ada@example.com', 'gold', 1840.5),
                          ('p-2', 'Alan Turing', 'alan@example.com', 'silver', 12),
                          ('p-3', 'Grace Hopper', 'grace@example.com', 'gold', null);
'@ | Out-Null
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
    $script:Http.Dispose()
}

Describe 'Connect-KustomerDestination and Test-KustomerConnection' {
    It 'registers the destination and reports the roles of the key' {
        $destination = Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_PESTER_KEY -Name pester -PassThru
        $destination.Name | Should -Be 'pester'
        $destination.IsDefault | Should -BeTrue
        (Get-KustomerDestination -Name pester).BaseUri | Should -Be $destination.BaseUri
        $test = Test-KustomerConnection -Destination pester
        $test.Succeeded | Should -BeTrue
        $test.Roles | Should -Contain 'org.permission.customer'
        ($test.Objects | Where-Object Object -EQ 'Customer').CanSync | Should -BeTrue
        $test.CanUseBulk | Should -BeFalse
        $test.RateLimit | Should -BeGreaterThan 0
        Test-KustomerConnection -Destination pester -Quiet | Should -BeTrue
    }

    It 'names the roles a key lacks per object' {
        $env:KUSTOMERSYNC_PESTER_RO = 'ks-read-only'
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_PESTER_RO -Name readonly
        $test = Test-KustomerConnection -Destination readonly
        $customer = $test.Objects | Where-Object Object -EQ 'Customer'
        $customer.CanSync | Should -BeFalse
        $customer.MissingRoles | Should -Contain 'org.permission.customer.create'
        Test-KustomerConnection -Destination readonly -Quiet | Should -BeFalse
        Disconnect-KustomerDestination -Name readonly
    }

    It 'gives one authentication error for an expired key' {
        $env:KUSTOMERSYNC_PESTER_EXPIRED = 'ks-expired-key'
        $failure = { Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_PESTER_EXPIRED -Name expired } |
            Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.AuthenticationFailed*'
        $failure.CategoryInfo.Category | Should -Be 'AuthenticationError'
        Get-KustomerDestination -Name expired | Should -BeNullOrEmpty
    }

    It 'gives a connection error naming the host when nothing listens' {
        $port = Get-FreeLoopbackPort
        $failure = { Connect-KustomerDestination -BaseUri "http://127.0.0.1:$port" -ApiKey (ConvertTo-SecureString 'x-key' -AsPlainText -Force) -Name nowhere } |
            Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.ConnectionFailed*'
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        $failure.Exception.Message | Should -Match '127\.0\.0\.1'
    }

    It 'refuses plain HTTP to a host that is not loopback' {
        { Connect-KustomerDestination -BaseUri 'http://kustomer.example.com' -ApiKey (ConvertTo-SecureString 'x-key' -AsPlainText -Force) -SkipConnectionTest } |
            Should -Throw -ErrorId 'KustomerSync.InvalidArgument*'
    }

    It 'asks for exactly one key source' {
        { Connect-KustomerDestination -Organization acme -SkipConnectionTest } | Should -Throw -ErrorId 'KustomerSync.MissingApiKey*'
    }
}

Describe 'Get-SourceRows | Invoke-KustomerUpsert' {
    BeforeAll {
        Reset-Emulator
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_PESTER_KEY -Name pester
        $script:Query = 'select id as externalId, full_name as name, email, plan as tierStr, ltv as lifetimeValueNum from people where id like @prefix order by id'
    }

    It 'plans without writing under -WhatIf' {
        $output = Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Database" -Query $script:Query -Parameters @{ prefix = 'p-%' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -WhatIf
        $results = $output | Where-Object { $_ -is [KustomerSync.UpsertResult] }
        @($results).Count | Should -Be 3
        $results.Status | Should -Be @('WouldCreate', 'WouldCreate', 'WouldCreate')
        Get-EmulatorCustomers | Should -BeNullOrEmpty
    }

    It 'creates every row, then finds nothing to change on the second run' {
        $first = Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Database" -Query $script:Query -Parameters @{ prefix = 'p-%' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -SummaryVariable summary
        $summary.Created | Should -Be 3
        $summary.Total | Should -Be 3
        $customers = Get-EmulatorCustomers
        $customers.Count | Should -Be 3
        $ada = $customers | Where-Object { $_.externalId -eq 'p-1' }
        $ada.name | Should -Be 'Ada Lovelace'
        $ada.emails[0].email | Should -Be 'ada@example.com'
        $ada.custom.tierStr | Should -Be 'gold'
        $ada.custom.lifetimeValueNum | Should -Be 1840.5

        $second = Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:Database" -Query $script:Query -Parameters @{ prefix = 'p-%' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -SummaryVariable summary
        $summary.Unchanged | Should -Be 3 -Because 'each looked-up record already holds the mapped values, so nothing is written'
        $summary.Requests | Should -Be 3
        $summary.Failed + $summary.Invalid | Should -Be 0
        (Get-EmulatorCustomers).Count | Should -Be 3
    }

    It 'rejects bad rows with results naming the key and column, and syncs the rest' {
        $rows = @(
            [pscustomobject]@{ externalId = 'ok-1'; name = 'Fine'; lifetimeValueNum = 3 }
            [pscustomobject]@{ externalId = ''; name = 'No key' }
            [pscustomobject]@{ externalId = 'ok-1'; name = 'Twice' }
            [pscustomobject]@{ externalId = 'bad-num'; name = 'Bad'; lifetimeValueNum = 'lots' }
            [pscustomobject]@{ externalId = 'bad-mail'; email = 'not-an-email' }
        )
        $results = @($rows | Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -SummaryVariable summary -ErrorVariable rowErrors -WarningVariable warned -WarningAction SilentlyContinue)
        $results.Count | Should -Be 5
        $results.Status | Should -Be @('Created', 'Invalid', 'Invalid', 'Invalid', 'Invalid')
        $results[1].ErrorId | Should -Be 'KustomerSync.MissingKey'
        $results[2].ErrorId | Should -Be 'KustomerSync.DuplicateKey'
        $results[3].Message | Should -Match "bad-num"
        $results[3].Message | Should -Match "lifetimeValueNum"
        $results[3].Field | Should -Be 'lifetimeValueNum'
        $results[4].Message | Should -Match 'not an email'
        $rowErrors.Count | Should -Be 0 -Because 'a rejected row is shown once, as its result'
        "$warned" | Should -BeLike '4 of 5 rows were rejected*'
        $summary.Total | Should -Be 5
        $summary.Created + $summary.Invalid | Should -Be 5
    }

    It 'stops before any request when -Mapping names an unknown field, suggesting close names' {
        $failure = { [pscustomobject]@{ externalId = 'x' } | Invoke-KustomerUpsert -Object Customer -Mapping @{ 'custom.tierstring' = 'externalId' } } |
            Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidMapping*'
        $failure.Exception.Message | Should -Match 'custom.tierStr'
    }
}

Describe 'Secrets' {
    It 'never shows the API key in any stream, verbose, debug or error text' {
        $transcript = Join-Path ([System.IO.Path]::GetTempPath()) "transcript-$([guid]::NewGuid().ToString('N')).txt"
        Start-Transcript -Path $transcript | Out-Null
        try {
            $captured = & {
                Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_PESTER_KEY -Name secret -PassThru -Verbose -Debug
                Get-KustomerDestination -Name secret | Format-List * | Out-String
                Test-KustomerConnection -Destination secret -Verbose -Debug | Format-List * | Out-String
                [pscustomobject]@{ externalId = 's-1'; lifetimeValueNum = 'nope' } | Invoke-KustomerUpsert -Object Customer -Destination secret -Verbose -Debug -ErrorAction Continue -WarningAction Continue
                $bad = ConvertTo-SecureString $script:SecretKey.Replace('ks-', 'kx-') -AsPlainText -Force
                try { Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKey $bad -Name wrong -Verbose -Debug } catch { $_ | Format-List * -Force | Out-String }
            } *>&1 | Out-String
        } finally {
            Stop-Transcript | Out-Null
        }
        $text = $captured + (Get-Content $transcript -Raw)
        $text | Should -Not -BeNullOrEmpty
        $text | Should -Not -Match ([regex]::Escape($script:SecretKey))
        $text | Should -Not -Match ([regex]::Escape($script:SecretKey.Replace('ks-', 'kx-')))
        Remove-Item $transcript
    }
}
