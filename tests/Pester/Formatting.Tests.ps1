# The default views of KustomerSync's output types (module/KustomerSync.Format.ps1xml): every public type of
# KustomerSync.Model has one, each renders through it, and no rendering shows a bare type name such as
# KustomerSync.ObjectAccess where a user expects readable text.

BeforeDiscovery {
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $modelTypes = @([KustomerSync.UpsertResult].Assembly.GetExportedTypes() |
            Where-Object { $_.IsClass -and -not $_.IsAbstract -and $_.Namespace -eq 'KustomerSync' } |
            Sort-Object FullName | ForEach-Object { @{ Name = $_.FullName } })
}

BeforeAll {
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    # Every public type name of the model assembly: none of them may appear in rendered output.
    $script:TypeNamePattern = '(?<![\w.])(' + ((@([KustomerSync.UpsertResult].Assembly.GetExportedTypes()) | ForEach-Object { [regex]::Escape($_.FullName) }) -join '|') + ')(?![\w.])'

    function script:New-Sample {
        param([string] $TypeName)
        $key = ConvertTo-SecureString 'format-test-key' -AsPlainText -Force
        switch ($TypeName) {
            'KustomerSync.KustomerDestination' {
                $d = [KustomerSync.KustomerDestination]::new('acme', 'acme', [uri]'https://acme.api.kustomerapp.com/', 'org host', $key, 'ApiKey')
                $d.IsDefault = $true
                return $d
            }
            'KustomerSync.ObjectAccess' {
                return [KustomerSync.ObjectAccess]@{ Object = 'company'; CanRead = $true; CanCreate = $false; CanUpdate = $false; MissingRoles = @('org.permission.company.create', 'org.permission.company.update') }
            }
            'KustomerSync.ConnectionTestResult' {
                return [KustomerSync.ConnectionTestResult]@{
                    Destination = 'acme'; BaseUri = [uri]'https://acme.api.kustomerapp.com/'; Succeeded = $true; TokenName = 'sync key'
                    Roles = @('org.permission.customer', 'org.admin.metadata.read')
                    Objects = @(
                        [KustomerSync.ObjectAccess]@{ Object = 'customer'; CanRead = $true; CanCreate = $true; CanUpdate = $true }
                        [KustomerSync.ObjectAccess]@{ Object = 'company'; CanRead = $false; CanCreate = $false; CanUpdate = $false; MissingRoles = @('org.permission.company') }
                    )
                    LatencyMs = 42.5; RateLimit = 1000; RateLimitRemaining = 990; Message = 'The key cannot sync: company (add org.permission.company).'
                }
            }
            'KustomerSync.UpsertResult' {
                return [KustomerSync.UpsertResult]@{ Row = 3; Object = 'Customer'; Key = 'c-1003'; Status = 'Invalid'; Field = 'lifetimeValueNum'
                    ErrorId = 'KustomerSync.InvalidValue'; Message = "Row 3 (key 'c-1003'): column 'lifetimeValueNum' for custom.lifetimeValueNum 'lots' is not a number."
                    InputObject = [pscustomobject]@{ externalId = 'c-1003'; lifetimeValueNum = 'lots' } }
            }
            'KustomerSync.UpsertSummary' {
                return [KustomerSync.UpsertSummary]@{ Object = 'Customer'; SyncKey = 'ExternalId'; Behavior = 'UpdateOrCreate'; Total = 3; Created = 2; Invalid = 1
                    Requests = 4; Elapsed = [timespan]::FromSeconds(1.5) }
            }
            default {
                # A type added later: an instance with its defaults (a new type needs a view even before it has data).
                try { return [Activator]::CreateInstance([type]$TypeName) } catch { return $null }
            }
        }
    }
}

Describe 'The format file' {
    It 'loads without errors' {
        $file = Join-Path (Get-Module KustomerSync).ModuleBase 'KustomerSync.Format.ps1xml'
        $errors = $null
        Update-FormatData -PrependPath $file -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors | Should -BeNullOrEmpty
    }
}

Describe 'The view of <Name>' -ForEach $modelTypes {
    It 'exists' {
        Get-FormatData -TypeName $Name | Should -Not -BeNullOrEmpty -Because "every type users see needs a view in module/KustomerSync.Format.ps1xml"
    }

    It 'renders without a bare type name' {
        $sample = New-Sample $Name
        if ($null -eq $sample) { Set-ItResult -Skipped -Because "$Name has no public parameterless constructor" ; return }
        $text = $sample | Out-String -Width 160
        $text.Trim() | Should -Not -BeNullOrEmpty
        $text | Should -Not -Match $script:TypeNamePattern
        $text | Should -Not -Match '#ERR'
    }
}

Describe 'What the default views show' {
    It 'shows an upsert result as a table of Row, Key, Status, KustomerId and Message without the row lead-in' {
        $text = New-Sample 'KustomerSync.UpsertResult' | Out-String -Width 160
        $text | Should -Match 'Row\s+Status\s+Key\s+ErrorId\s+Message'
        $text | Should -Match "Invalid\s+c-1003\s+InvalidValue\s+column 'lifetimeValueNum'"
        $text | Should -Not -Match 'InputObject'
    }

    It 'shows the summary after the result rows in its own list, even in the same output' {
        $text = @((New-Sample 'KustomerSync.UpsertResult'), (New-Sample 'KustomerSync.UpsertSummary')) | Out-String -Width 160
        $text | Should -Match 'Row\s+Status\s+Key'
        $text | Should -Match 'Object\s+: Customer by ExternalId \(UpdateOrCreate\)'
        $text | Should -Match 'Requests\s+: 4 \(0 rate-limited, 0 retried\)'
        $text | Should -Not -Match 'RowsPerSecond'
    }

    It 'shows planned counts, not written ones, for a -WhatIf summary' {
        $summary = New-Sample 'KustomerSync.UpsertSummary'
        $summary.WhatIf = $true
        $summary.Created = 0
        $summary.WouldCreate = 2
        $text = $summary | Out-String -Width 160
        $text | Should -Match 'WhatIf: nothing written'
        $text | Should -Match 'WouldCreate\s+: 2'
        $text | Should -Not -Match 'Created\s+:'
    }

    It 'names the guards that refused a run, and hides the line when none did' {
        $summary = New-Sample 'KustomerSync.UpsertSummary'
        ($summary | Out-String -Width 160) | Should -Not -Match 'GuardsTripped'
        $summary.GuardsTripped = @('TooManyChanges', 'FieldCleared')
        ($summary | Out-String -Width 160) | Should -Match 'GuardsTripped\s+: TooManyChanges, FieldCleared \(refused the run: nothing written\)'
        "$summary" | Should -Match 'refused by TooManyChanges, FieldCleared: nothing written'
    }

    It 'shows a connection test as what the key can and cannot sync' {
        $text = New-Sample 'KustomerSync.ConnectionTestResult' | Out-String -Width 160
        $text | Should -Match 'CanSync\s+: customer'
        $text | Should -Match 'CannotSync\s+: company \(missing org.permission.company\)'
        $text | Should -Match 'RateLimit\s+: 990 of 1000 left'
    }

    It 'shows a destination without its key' {
        $text = New-Sample 'KustomerSync.KustomerDestination' | Out-String -Width 160
        $text | Should -Match 'acme\s+True\s+https://acme.api.kustomerapp.com/'
        $text | Should -Not -Match 'format-test-key'
        $text | Should -Not -Match 'SecureString'
    }

    It 'shows missing roles per object' {
        $text = New-Sample 'KustomerSync.ObjectAccess' | Out-String -Width 160
        $text | Should -Match 'company\s+False\s+True\s+False\s+False\s+org.permission.company.create, org.permission.company.update'
    }
}
