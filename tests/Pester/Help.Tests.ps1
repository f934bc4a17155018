# Walks every cmdlet the built module exports and fails when its help is incomplete: no synopsis, no description,
# fewer than two examples, a parameter without a description, a described parameter that does not exist, or an
# [OutputType] without a format view. Help comes from docs/cmdlets/<Cmdlet>.md through build/HelpBuilder.ps1;
# a new cmdlet fails here (and in the build) until its doc exists.

BeforeDiscovery {
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $commands = @((Get-Module KustomerSync).ExportedCmdlets.Values | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
    function script:Get-Text($Value) { (($Value | ForEach-Object { $_.Text }) -join "`n").Trim() }
}

Describe 'The module' {
    It 'exports cmdlets' {
        (Get-Module KustomerSync).ExportedCmdlets.Count | Should -BeGreaterThan 0
    }

    It 'places the help beside the cmdlet assembly of this edition' {
        $assembly = (Get-Command Connect-KustomerDestination).ImplementingType.Assembly.Location
        Join-Path (Split-Path $assembly) 'en-US/KustomerSync.Cmdlets.dll-Help.xml' | Should -Exist
    }
}

Describe 'Help for <Name>' -ForEach $commands {
    BeforeAll {
        $script:Command = Get-Command -Name $Name -CommandType Cmdlet
        $script:Help = Get-Help -Name $Name -Full
        $script:Parameters = @($script:Command.Parameters.Keys | Where-Object { $_ -notin $script:Common -or $_ -in 'WhatIf', 'Confirm' })
        $script:HelpParameters = @($script:Help.parameters.parameter | Where-Object { $_ })
    }

    It 'comes from the MAML file' {
        # Without a MAML entry Get-Help makes up help from the syntax; it has no examples and no description.
        $script:Help.description | Should -Not -BeNullOrEmpty -Because "docs/cmdlets/$Name.md must exist and be built by build/HelpBuilder.ps1"
    }

    It 'has a synopsis' {
        $synopsis = "$($script:Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -Match "^$([regex]::Escape($Name))\s" -Because 'a synopsis that repeats the syntax means the help is missing'
    }

    It 'has a description' {
        Get-Text $script:Help.description | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and remarks' {
        $examples = @($script:Help.examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs code"
            Get-Text $example.remarks | Should -Not -BeNullOrEmpty -Because "example '$($example.title)' needs remarks"
        }
    }

    It 'uses only its own parameters in its examples' {
        foreach ($example in @($script:Help.examples.example | Where-Object { $_ })) {
            $tokens = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput("$($example.code)", [ref]$tokens, [ref]$null)
            $calls = $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -eq $Name }, $true)
            foreach ($call in $calls) {
                foreach ($parameter in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                    $matched = @($script:Command.Parameters.Values | Where-Object { $_.Name -like "$($parameter.ParameterName)*" -or $_.Aliases -contains $parameter.ParameterName })
                    $matched.Count | Should -BeGreaterThan 0 -Because "example '$($example.title)' uses -$($parameter.ParameterName), which $Name does not have"
                }
            }
        }
    }

    It 'describes every parameter' {
        foreach ($parameter in $script:Parameters) {
            $entry = $script:HelpParameters | Where-Object { $_.name -eq $parameter }
            $entry | Should -Not -BeNullOrEmpty -Because "-$parameter must be in the help"
            Get-Text $entry.description | Should -Not -BeNullOrEmpty -Because "-$parameter needs a description in docs/cmdlets/$Name.md"
        }
    }

    It 'describes no parameter the cmdlet does not have' {
        foreach ($entry in $script:HelpParameters) {
            $script:Command.Parameters.ContainsKey($entry.name) | Should -BeTrue -Because "the help describes -$($entry.name)"
        }
    }

    It 'shows the real type, position and pipeline input of every parameter' {
        foreach ($parameter in $script:Parameters) {
            $entry = $script:HelpParameters | Where-Object { $_.name -eq $parameter }
            $metadata = $script:Command.Parameters[$parameter]
            if (-not $metadata.SwitchParameter) { $entry.type.name | Should -Be $metadata.ParameterType.FullName }
            $byValue = @($metadata.ParameterSets.Values | Where-Object ValueFromPipeline).Count -gt 0
            $byName = @($metadata.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
            ($entry.pipelineInput -match 'ByValue') | Should -Be $byValue -Because "-$parameter pipeline input by value"
            ($entry.pipelineInput -match 'ByPropertyName') | Should -Be $byName -Because "-$parameter pipeline input by property name"
        }
    }

    It 'has a format view for every [OutputType]' {
        foreach ($type in $script:Command.OutputType) {
            $name = $type.Name
            if ($name -like 'System.*' -or $name -eq 'void') { continue }
            Get-FormatData -TypeName $name | Should -Not -BeNullOrEmpty -Because "$Name writes $name, which needs a view in module/KustomerSync.Format.ps1xml"
        }
    }

    It 'lists every [OutputType] under OUTPUTS' {
        $outputs = @($script:Help.returnValues.returnValue | ForEach-Object { $_.type.name })
        foreach ($type in $script:Command.OutputType) {
            if ($type.Name -eq 'System.Void') { continue }
            $outputs | Should -Contain $type.Name
        }
    }

    It 'shows parameter help with Get-Help -Parameter' {
        foreach ($parameter in $script:Parameters | Select-Object -First 3) {
            (Get-Help -Name $Name -Parameter $parameter).name | Should -Be $parameter
        }
    }
}

Describe 'about_KustomerSync' {
    BeforeAll {
        $script:About = (Get-Help -Name about_KustomerSync | Out-String)
    }

    It 'is found by Get-Help' {
        $script:About | Should -Match 'TOPIC\s+about_KustomerSync'
    }

    It 'covers the concepts, a walkthrough and troubleshooting' {
        foreach ($heading in 'Sync keys', 'Behaviours', 'Mapping and custom attribute types', 'Planning with -WhatIf',
            'Rate limits', 'Retries', 'Security', 'WALKTHROUGH', 'TROUBLESHOOTING') {
            $script:About | Should -Match ([regex]::Escape($heading))
        }
    }

    It 'names every exported cmdlet' {
        foreach ($command in (Get-Module KustomerSync).ExportedCmdlets.Keys) {
            $script:About | Should -Match ([regex]::Escape($command))
        }
    }

    It 'has a troubleshooting entry for every error id in the source' {
        $src = Join-Path $PSScriptRoot '../../src'
        if (-not (Test-Path $src)) { Set-ItResult -Skipped -Because 'the sources are not beside the tests'; return }
        $assemblies = 'Cmdlets', 'Engine', 'Model', 'Emulator', 'Tests'
        $ids = Get-ChildItem (Join-Path $src 'KustomerSync.Engine'), (Join-Path $src 'KustomerSync.Cmdlets') -Recurse -Filter *.cs |
            Select-String -Pattern '"KustomerSync\.([A-Z][A-Za-z]+)"' -AllMatches |
            ForEach-Object { $_.Matches } | ForEach-Object { $_.Groups[1].Value } |
            Where-Object { $_ -notin $assemblies } | Sort-Object -Unique
        $ids.Count | Should -BeGreaterThan 10
        $troubleshooting = $script:About.Substring($script:About.IndexOf('TROUBLESHOOTING'))
        $missing = @($ids | Where-Object { $troubleshooting -notmatch "KustomerSync\.$_\b" })
        $missing | Should -BeNullOrEmpty -Because 'every ErrorId needs a cause and fix under TROUBLESHOOTING in module/en-US/about_KustomerSync.help.txt'
    }
}
