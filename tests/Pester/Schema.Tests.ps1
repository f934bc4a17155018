# Get-KustomerSchema end to end: the built module against the emulator process. Custom attributes with their types,
# display names and values; standard fields; klasses and piping them back; tab completion of -Object; the errors for a
# key without the read roles and for a klass that does not exist; the default views.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    $keysFile = Join-Path ([System.IO.Path]::GetTempPath()) "schema-keys-$([guid]::NewGuid().ToString('N')).json"
    @{ keys = @(
            @{ key = 'schema-writer-only'; name = 'no metadata, no klass role'; roles = @('org.permission.customer') }
        ) } | ConvertTo-Json -Depth 5 | Set-Content $keysFile
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $env:KUSTOMERSYNC_SCHEMA_KEY = 'emulator-key'
    $env:KUSTOMERSYNC_SCHEMA_WRITER = 'schema-writer-only'
    Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_SCHEMA_KEY -Name schema
    Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_SCHEMA_WRITER -Name writer -SkipConnectionTest
    Remove-Item $keysFile -ErrorAction SilentlyContinue
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
}

Describe 'Get-KustomerSchema -Object' {
    It 'lists the custom attributes of customers with the type from the suffix and the display name' {
        $attributes = Get-KustomerSchema Customer -Destination schema
        $attributes | Should -Not -BeNullOrEmpty
        $attributes | ForEach-Object { $_ | Should -BeOfType ([KustomerSync.KustomerAttribute]) }
        $tier = $attributes | Where-Object Name -EQ 'tierStr'
        $tier.Path | Should -Be 'custom.tierStr'
        $tier.Type | Should -Be 'String'
        $tier.Suffix | Should -Be 'Str'
        $tier.DisplayName | Should -Be 'Tier'
        $tier.MaxLength | Should -Be 1024
        ($attributes | Where-Object Name -EQ 'planStr').Enumeration | Should -Be @('free', 'pro', 'enterprise')
        ($attributes | Where-Object Name -EQ 'lastOrderAt').Type | Should -Be 'DateTime'
        ($attributes | Where-Object Name -EQ 'regionTree').TreeValues | Should -Contain 'emea.uk'
        $attributes.IsCustom | Should -Not -Contain $false
    }

    It 'uses the default destination and Customer when nothing is given' {
        (Get-KustomerSchema).Name | Should -Contain 'crmAccountIdStr'
    }

    It 'adds the standard fields first with -Standard' {
        $attributes = @(Get-KustomerSchema -Object Company -Standard)
        $attributes[0].Name | Should -Be 'externalId'
        $attributes[0].IsCustom | Should -BeFalse
        $attributes.Name | Should -Contain 'domain'
        $attributes.Name | Should -Contain 'accountIdStr'
    }

    It 'lists the attributes of a klass' {
        $order = Get-KustomerSchema kobject.order
        ($order | Where-Object Name -EQ 'totalNum').Type | Should -Be 'Number'
        $order.Object | Select-Object -Unique | Should -Be 'kobject.order'
    }

    It 'reports an unknown klass as KustomerSync.UnknownKlass' {
        { Get-KustomerSchema kobject.nosuchklass -ErrorAction Stop } | Should -Throw -ErrorId 'KustomerSync.UnknownKlass,*'
    }

    It 'reports an object name it does not know as an invalid argument' {
        { Get-KustomerSchema 'Tickets' -ErrorAction Stop } | Should -Throw -ErrorId 'KustomerSync.InvalidArgument,*'
    }

    It 'names the missing metadata role when the key has none' {
        Get-KustomerSchema Customer -Destination writer -ErrorVariable failure -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'KustomerSync.MissingRole,*'
        $failure[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $failure[0].Exception.Message | Should -Match 'org\.admin\.metadata\.read'
    }
}

Describe 'Get-KustomerSchema -Klasses' {
    It 'lists the klasses with the -Object value to use' {
        $klasses = Get-KustomerSchema -Klasses
        $klasses.Name | Should -Be @('order', 'subscription')
        $order = $klasses | Where-Object Name -EQ 'order'
        $order | Should -BeOfType ([KustomerSync.KustomerKlass])
        $order.Object | Should -Be 'kobject.order'
        $order.DisplayName | Should -Be 'Order'
        $order.Status | Should -Be 'enabled'
        $order.Id | Should -Match '^[0-9a-f]{24}$'
        $order.Destination | Should -Be 'schema'
    }

    It 'pipes klasses back in to list each klass''s attributes' {
        $attributes = Get-KustomerSchema -Klasses | Get-KustomerSchema
        ($attributes.Object | Select-Object -Unique) | Should -Be @('kobject.order', 'kobject.subscription')
        $attributes.Name | Should -Contain 'mrrNum'
    }

    It 'names the missing klass role when the key has none' {
        Get-KustomerSchema -Klasses -Destination writer -ErrorVariable failure -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'KustomerSync.MissingRole,*'
        $failure[0].Exception.Message | Should -Match 'org\.admin\.klass\.read'
    }
}

Describe 'Get-KustomerSchema in the shell' {
    It 'completes -Object with the klasses of the org' {
        $line = 'Get-KustomerSchema -Object kobject.'
        $texts = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $texts | Should -Contain 'kobject.order'
        $texts | Should -Contain 'kobject.subscription'
    }

    It 'renders attributes and klasses as readable tables' {
        $text = Get-KustomerSchema Customer | Out-String -Width 140
        $text | Should -Match 'custom\.planStr\s+String\s+Plan\s+1024 free, pro, enterprise'
        $text | Should -Not -Match 'KustomerSync\.'
        $text = Get-KustomerSchema -Klasses | Out-String -Width 140
        $text | Should -Match 'kobject\.order\s+Order\s+enabled'
    }

    It 'has help with examples' {
        $help = Get-Help Get-KustomerSchema -Full
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        $help.parameters.parameter.name | Should -Contain 'Klasses'
    }
}
