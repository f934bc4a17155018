# Kustomer's documented rules as a user meets them through the module, against the emulator process with its strict
# defaults: a customer's company stays linked when the mapping has none, company updates leave out createdAt, klasses
# of every status are listed and completed, custom keys on records older than two years are never duplicated,
# -Backfill lifts the per-customer KObject create limit, and a 401 for a missing role reads as one.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Http = [System.Net.Http.HttpClient]::new()
    function script:Invoke-Emulator([string] $BaseUri, [string] $Method, [string] $Path, $Body, [string] $Key) {
        $request = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method), "$(([string]$BaseUri).TrimEnd('/'))/$Path")
        if ($Key) { $request.Headers.Authorization = [System.Net.Http.Headers.AuthenticationHeaderValue]::new('Bearer', $Key) }
        if ($null -ne $Body) {
            $request.Content = [System.Net.Http.StringContent]::new(($Body | ConvertTo-Json -Depth 10 -Compress), [System.Text.Encoding]::UTF8, 'application/json')
        }
        $response = $script:Http.SendAsync($request).GetAwaiter().GetResult()
        $text = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
        if (-not $response.IsSuccessStatusCode) { throw "$Method $Path answered $([int]$response.StatusCode): $text" }
        if ($text) { $text | ConvertFrom-Json -Depth 20 }
    }
    function script:Results($Output) { @($Output | Where-Object { $_ -is [KustomerSync.UpsertResult] }) }
    $env:KUSTOMERSYNC_RULES_KEY = 'emulator-key'
    $env:KUSTOMERSYNC_RULES_READER = 'rules-reader'
    $keysFile = Join-Path ([System.IO.Path]::GetTempPath()) "rules-keys-$([guid]::NewGuid().ToString('N')).json"
    @{ keys = @(@{ key = 'rules-reader'; name = 'reads customers only'; roles = @('org.user.customer.read') }) } |
        ConvertTo-Json -Depth 5 | Set-Content $keysFile
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0', '--kobject-create-limit', '5', '--keys', $keysFile
    $script:Strict401 = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0', '--missing-role-status', '401', '--keys', $keysFile
    Remove-Item $keysFile -ErrorAction SilentlyContinue
    Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_RULES_KEY -Name rules
    Connect-KustomerDestination -BaseUri $script:Strict401.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_RULES_READER -Name reader401
    $script:Base = $script:Emulator.BaseUri
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
    Stop-KustomerEmulator $script:Strict401
    $script:Http.Dispose()
}

Describe 'Company links' {
    It 'keeps a customer''s company when the mapping names none' {
        [pscustomobject]@{ externalId = 'link-co'; name = 'Analytical Engines' } | Invoke-KustomerUpsert -Object Company -Destination rules | Out-Null
        $first = Results ([pscustomobject]@{ externalId = 'link-1'; name = 'Ada'; companyExternalId = 'link-co' } |
            Invoke-KustomerUpsert -Object Customer -Destination rules)
        $companyId = (Invoke-Emulator $script:Base GET "v1/customers/$($first[0].KustomerId)" -Key emulator-admin-key).data.relationships.company.data.id
        $companyId | Should -Match '^[0-9a-f]{24}$'

        [pscustomobject]@{ externalId = 'link-1'; name = 'Ada Lovelace' } | Invoke-KustomerUpsert -Object Customer -Destination rules -SummaryVariable summary | Out-Null
        $summary.Updated | Should -Be 1
        $after = Invoke-Emulator $script:Base GET "v1/customers/$($first[0].KustomerId)" -Key emulator-admin-key
        $after.data.attributes.name | Should -Be 'Ada Lovelace'
        $after.data.relationships.company.data.id | Should -Be $companyId
    }

    It 'keeps the link when the record''s id comes from the state store' {
        $state = Join-Path ([System.IO.Path]::GetTempPath()) "rules-$([guid]::NewGuid().ToString('N')).db"
        try {
            $first = Results ([pscustomobject]@{ externalId = 'link-2'; name = 'Charles' } | Invoke-KustomerUpsert -Object Customer -Destination rules -StatePath $state)
            $company = Invoke-Emulator $script:Base POST 'v1/companies' @{ name = 'Difference Engines'; externalId = 'link-co-2' } -Key emulator-admin-key
            Invoke-Emulator $script:Base PATCH "v1/customers/$($first[0].KustomerId)" @{ company = $company.data.id } -Key emulator-admin-key | Out-Null

            [pscustomobject]@{ externalId = 'link-2'; name = 'Charles Babbage' } | Invoke-KustomerUpsert -Object Customer -Destination rules -StatePath $state -SummaryVariable summary | Out-Null
            $summary.Updated | Should -Be 1
            (Invoke-Emulator $script:Base GET "v1/customers/$($first[0].KustomerId)" -Key emulator-admin-key).data.relationships.company.data.id | Should -Be $company.data.id
        }
        finally {
            Remove-Item $state -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Company updates' {
    It 'sends createdAt and importedAt on create only, since Kustomer refuses them on update' {
        $row = { param($name) [pscustomobject]@{ externalId = 'dated-co'; name = $name; createdAt = '2020-01-02T03:04:05Z'; importedAt = '2026-11-30T00:00:00Z' } }
        & $row 'Dated Company' | Invoke-KustomerUpsert -Object Company -Destination rules -SummaryVariable created | Out-Null
        $created.Created | Should -Be 1
        $output = & $row 'Dated Company Ltd' | Invoke-KustomerUpsert -Object Company -Destination rules -SummaryVariable updated -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -BeNullOrEmpty
        (Results $output).Status | Should -Be 'Updated'
        $updated.Updated | Should -Be 1
    }
}

Describe 'Klasses of every status' {
    BeforeAll {
        Invoke-Emulator $script:Base PUT '_emulator/klasses/subscription' @{ status = 'existing_only' } | Out-Null
        Invoke-Emulator $script:Base POST 'v1/klasses' @{ name = 'retired'; displayName = 'Retired'; status = 'disabled' } -Key emulator-admin-key | Out-Null
    }

    It 'lists enabled, existing-only and disabled klasses' {
        $klasses = Get-KustomerSchema -Klasses -Destination rules
        $klasses.Name | Should -Be @('order', 'retired', 'subscription')
        ($klasses | Where-Object Name -EQ 'subscription').Status | Should -Be 'existing_only'
        ($klasses | Where-Object Name -EQ 'retired').Status | Should -Be 'disabled'
    }

    It 'completes -Object with them' {
        $line = 'Invoke-KustomerUpsert -Destination rules -Object kobject.'
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $completions.CompletionText | Should -Contain 'kobject.subscription'
        $completions.CompletionText | Should -Contain 'kobject.retired'
        ($completions | Where-Object CompletionText -EQ 'kobject.retired').ToolTip | Should -Match 'disabled'
    }
}

Describe 'Custom-attribute keys and records older than two years' {
    BeforeAll {
        $seeded = Results ([pscustomobject]@{ externalId = 'dormant-1'; name = 'Dormant'; crmAccountIdStr = 'D-1' } | Invoke-KustomerUpsert -Object Customer -Destination rules)
        Invoke-Emulator $script:Base POST '_emulator/records/times' @{ type = 'customer'; id = $seeded[0].KustomerId; ageDays = 731 } | Out-Null
    }

    It 'does not create a record that search cannot rule out, and says why' {
        $before = (Invoke-Emulator $script:Base GET '_emulator/state?items=false').customers.count
        $output = [pscustomobject]@{ crmAccountIdStr = 'D-1'; name = 'Dormant again' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey crmAccountIdStr -Destination rules -ErrorVariable failures -ErrorAction SilentlyContinue
        $result = (Results $output)[0]
        $result.Status | Should -Be 'Failed'
        $result.ErrorId | Should -Be 'KustomerSync.KeyNotProvablyAbsent'
        $result.Message | Should -Match 'two years'
        @($failures).Count | Should -Be 0 -Because 'a rejected row is shown once, as its result'
        (Invoke-Emulator $script:Base GET '_emulator/state?items=false').customers.count | Should -Be $before
    }

    It 'creates on a search miss with -CreateOnSearchMiss' {
        [pscustomobject]@{ crmAccountIdStr = 'N-1'; name = 'New account' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey crmAccountIdStr -Destination rules -CreateOnSearchMiss -SummaryVariable summary | Out-Null
        $summary.Created | Should -Be 1
    }
}

Describe 'KObject backfills' {
    It 'marks created KObjects imported with -Backfill, so the per-customer create limit does not hold them' {
        [pscustomobject]@{ email = 'orders@example.com'; name = 'Orders' } | Invoke-KustomerUpsert -Object Customer -SyncKey Email -Destination rules | Out-Null
        $orders = 1..12 | ForEach-Object { [pscustomobject]@{ externalId = "bf-$_"; title = "Order $_"; customerEmail = 'orders@example.com' } }
        $orders | Invoke-KustomerUpsert -Object kobject.order -Destination rules -Backfill -SummaryVariable summary | Out-Null
        $summary.Created | Should -Be 12
        $summary.RateLimited | Should -Be 0
        (Invoke-Emulator $script:Base GET 'v1/klasses/order/externalId=bf-12' -Key emulator-admin-key).data.attributes.importedAt | Should -Not -BeNullOrEmpty
    }
}

Describe 'A 401 for a missing role' {
    It 'reads as a missing role once the key itself is known good' {
        Get-KustomerSchema -Object Customer -Destination reader401 -ErrorVariable failure -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'KustomerSync.MissingRole,*'
        $failure[0].Exception.Message | Should -Match 'org\.admin\.metadata\.read'

        $output = [pscustomobject]@{ externalId = 'r-1'; name = 'Reader' } | Invoke-KustomerUpsert -Object Customer -Destination reader401 -ErrorAction SilentlyContinue
        (Results $output)[0].ErrorId | Should -Be 'KustomerSync.MissingRole'
    }
}
