<#
.SYNOPSIS
    Builds the MAML help of the KustomerSync cmdlets from docs/cmdlets/*.md and the cmdlets' real metadata.

.DESCRIPTION
    Called by build.ps1 (Export-ModuleHelp in build/BuildTasks.psm1) in a child process after the module is laid out:

        dotnet pwsh -NoProfile -File build/HelpBuilder.ps1 -ModuleRoot out/KustomerSync/<version> -SourceFolder docs/cmdlets

    It imports the built module from -ModuleRoot, pairs every exported cmdlet with docs/cmdlets/<Cmdlet-Name>.md, and
    writes <ModuleRoot>/Core/en-US/KustomerSync.Cmdlets.dll-Help.xml and the same file under Desktop/en-US (help sits
    beside the DLL that defines the cmdlets). Everything that can be read from the cmdlet itself comes from the cmdlet,
    never from the markdown: syntax, parameter sets, types, mandatory, position, pipeline input, aliases, wildcard
    support, accepted values (ValidateSet and enums), ranges (ValidateRange) and default values (read from a fresh
    instance of the cmdlet class). The markdown carries only the prose and the examples.

    The build FAILS (exit 1, one line per problem) when:
      - an exported cmdlet has no docs/cmdlets/<Name>.md;
      - a doc lacks a SYNOPSIS or DESCRIPTION, or has fewer than two examples, or an example without code or remarks;
      - a parameter of the cmdlet (common parameters excepted) has no description;
      - a doc describes a parameter the cmdlet does not have (renamed or removed);
      - a doc still holds a {{ placeholder }} from -NewDoc;
      - a type the cmdlet declares with [OutputType] is not listed under OUTPUTS;
      - a section heading is unknown, or the help cannot be read back with Get-Help after it is written.
    A doc for a cmdlet that is not exported only warns (the cmdlet may be on its way).

    THE MARKDOWN FORMAT (platyPS-like; one file per cmdlet, named <Cmdlet-Name>.md)

        ---                                       optional front matter; only 'online version:' is used
        online version: https://...               (becomes the first related link)
        ---

        # Connect-KustomerDestination             H1: the cmdlet name, exactly

        ## SYNOPSIS
        One sentence.

        ## SYNTAX                                 optional and ignored: syntax is generated from the cmdlet

        ## DESCRIPTION
        Paragraphs separated by blank lines. Lines starting with '- ' are list items (one per line in the help).
        An indented (4 spaces) or fenced block is kept verbatim. Inline `code` and **bold** marks are removed.

        ## EXAMPLES

        ### Example 1: Connect with a key typed at a prompt     H3: the example's title
        ```powershell
        Connect-KustomerDestination -Organization acme -ApiKey (Read-Host -AsSecureString)
        ```

        Remarks: paragraphs after the code block (at least two examples per cmdlet).

        ## PARAMETERS

        ### -Organization                          H3: '-' and the parameter name, as the cmdlet declares it
        Description paragraphs.

        ```yaml                                   optional; only these two keys are read:
        Default value: the default destination    overrides the default read from the cmdlet instance
        Accept wildcard characters: True          overrides [SupportsWildcards]
        ```                                       platyPS's other keys (Type, Parameter Sets, Aliases, Accepted
                                                  values, Required, Position, Accept pipeline input) are ignored:
                                                  the help takes them from the cmdlet, so they cannot go stale.

        ### CommonParameters                      optional; ignored (Get-Help adds the standard text)

        -WhatIf and -Confirm get a standard description unless the doc gives one.

        ## INPUTS
        ### System.String                         H3: a type name, then its description
        ...
        ## OUTPUTS                                 H3 per type; must cover every [OutputType] type
        ### KustomerSync.KustomerDestination
        ...
        ## NOTES
        Paragraphs.

        ## RELATED LINKS
        - [Get-KustomerDestination](Get-KustomerDestination)      markdown links or bare names, one per line
        - about_KustomerSync

    ADDING DOCS FOR A NEW CMDLET
        1. Add the cmdlet to CmdletsToExport in KustomerSync.psd1 and build once: the build stops and names the
           missing doc.
        2. dotnet pwsh build/HelpBuilder.ps1 -ModuleRoot out/KustomerSync/<version> -SourceFolder docs/cmdlets -NewDoc <Cmdlet-Name>
           writes docs/cmdlets/<Cmdlet-Name>.md with every parameter listed and {{ placeholders }}.
        3. Replace every placeholder (two real examples at least), build again. tests/Pester/Help.Tests.ps1 checks
           the result; add a format view in module/KustomerSync.Format.ps1xml for any new output type.

.PARAMETER ModuleRoot
    The built module's version folder (it holds KustomerSync.psd1, Core/ and Desktop/).

.PARAMETER SourceFolder
    The folder of the markdown docs (docs/cmdlets).

.PARAMETER NewDoc
    Writes a skeleton doc for each named cmdlet (from its metadata) into -SourceFolder instead of building help.
    Existing files are never overwritten.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModuleRoot,
    [Parameter(Mandatory)] [string] $SourceFolder,
    [string[]] $NewDoc
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$HelpFileName = 'KustomerSync.Cmdlets.dll-Help.xml'
$KnownSections = 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'
$CommonParameters = [System.Management.Automation.Cmdlet]::CommonParameters + 'UseTransaction'
# platyPS writes these in each parameter's yaml block; they are read from the cmdlet itself, so they are ignored.
$DerivedYamlKeys = 'Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Accept pipeline input'
$StandardDescriptions = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

#region Markdown parsing

function ConvertTo-PlainText {
    # Inline markdown a console reader does not need: `code`, **bold**, [text](uri) -> text (uri).
    param([string] $Text)
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\(([^)]+)\)', { param($m) if ($m.Groups[1].Value -eq $m.Groups[2].Value) { $m.Groups[1].Value } else { "$($m.Groups[1].Value) ($($m.Groups[2].Value))" } })
    $Text = [regex]::Replace($Text, '\*\*([^*]+)\*\*', '$1')
    [regex]::Replace($Text, '`([^`]+)`', '$1')
}

function Split-Paragraph {
    # Lines -> paragraphs. Blank lines separate paragraphs; list items ('- ', '* ', '1. ') are one paragraph each
    # line, so they stay one per line; fenced and 4-space-indented blocks are kept verbatim.
    param([string[]] $Lines)
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    $verbatim = $null
    $lastWasIndented = $false
    $flush = {
        if ($current.Count -gt 0) { $paragraphs.Add((ConvertTo-PlainText (($current | ForEach-Object Trim) -join ' '))); $current.Clear() }
    }
    foreach ($line in $Lines) {
        if ($null -ne $verbatim) {
            if ($line -match '^\s*```') { $paragraphs.Add(($verbatim -join "`n")); $verbatim = $null }
            else { $verbatim.Add('    ' + $line) }
            continue
        }
        if ($line -match '^\s*```') { & $flush; $verbatim = [System.Collections.Generic.List[string]]::new(); continue }
        if ($line -match '^\s*$') { & $flush; continue }
        if ($line -match '^ {4,}\S' -and $current.Count -eq 0) {
            # An indented block: keep consecutive indented lines together, verbatim (deeper-indented continuation
            # lines too, or a two-column table would be run together into one paragraph).
            if ($paragraphs.Count -gt 0 -and $paragraphs[$paragraphs.Count - 1].StartsWith('    ') -and $lastWasIndented) {
                $paragraphs[$paragraphs.Count - 1] += "`n" + $line
            } else { $paragraphs.Add($line) }
            $lastWasIndented = $true
            continue
        }
        $lastWasIndented = $false
        if ($line -match '^\s*([-*]|\d+\.)\s+') { & $flush; $current.Add($line.Trim()); continue }
        if ($current.Count -gt 0 -and $current[0] -match '^([-*]|\d+\.)\s+' -and $line -match '^\s{2,}\S') { $current.Add($line); continue }
        $current.Add($line)
    }
    if ($null -ne $verbatim) { $paragraphs.Add(($verbatim -join "`n")) }
    & $flush
    , $paragraphs.ToArray()
}

function Read-CmdletDoc {
    # Parses one docs/cmdlets/<Name>.md into a hashtable. Problems are added to $Problems (never thrown).
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[string]] $Problems)
    $file = Split-Path $Path -Leaf
    $lines = [System.IO.File]::ReadAllLines($Path)
    $doc = [ordered]@{
        Name = $null; Synopsis = $null; Description = @(); Examples = [System.Collections.Generic.List[object]]::new()
        Parameters = [ordered]@{}; Inputs = [System.Collections.Generic.List[object]]::new(); Outputs = [System.Collections.Generic.List[object]]::new()
        Notes = @(); Links = [System.Collections.Generic.List[object]]::new(); OnlineVersion = $null; File = $file
    }
    $i = 0
    if ($lines.Count -gt 0 -and $lines[0] -eq '---') {
        for ($i = 1; $i -lt $lines.Count -and $lines[$i] -ne '---'; $i++) {
            if ($lines[$i] -match '^online version:\s*(\S.*)$') { $doc.OnlineVersion = $Matches[1].Trim() }
        }
        $i++
    }
    if (($lines -join "`n") -match '\{\{[^}]*\}\}') { $Problems.Add("${file}: still holds a {{ placeholder }}; replace every one with real text.") }

    # Split into sections (H2) and items (H3), ignoring headings inside fenced code.
    $sections = [ordered]@{}
    $section = $null
    $item = $null
    $inFence = $false
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^# (\S.*)$') { $doc.Name = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^## (\S.*)$') {
            $name = $Matches[1].Trim().ToUpperInvariant()
            if ($name -notin $KnownSections) { $Problems.Add("${file}: unknown section '## $($Matches[1])'. Known sections: $($KnownSections -join ', ').") }
            if ($sections.Contains($name)) { $Problems.Add("${file}: section '## $name' appears twice.") }
            $section = [ordered]@{ Lines = [System.Collections.Generic.List[string]]::new(); Items = [System.Collections.Generic.List[object]]::new() }
            $sections[$name] = $section
            $item = $null
            continue
        }
        if (-not $inFence -and $line -match '^### (\S.*)$' -and $null -ne $section) {
            $item = [ordered]@{ Title = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
            $section.Items.Add($item)
            continue
        }
        if ($null -ne $item) { $item.Lines.Add($line) }
        elseif ($null -ne $section) { $section.Lines.Add($line) }
    }

    $expected = [System.IO.Path]::GetFileNameWithoutExtension($file)
    if (-not $doc.Name) { $Problems.Add("${file}: no '# $expected' title line.") }
    elseif ($doc.Name -ne $expected) { $Problems.Add("${file}: the title '# $($doc.Name)' does not match the file name ($expected).") }

    if ($sections.Contains('SYNOPSIS')) { $doc.Synopsis = (Split-Paragraph $sections['SYNOPSIS'].Lines) -join ' ' }
    if (-not $doc.Synopsis) { $Problems.Add("${file}: ## SYNOPSIS is missing or empty.") }
    if ($sections.Contains('DESCRIPTION')) { $doc.Description = Split-Paragraph $sections['DESCRIPTION'].Lines }
    if (-not $doc.Description) { $Problems.Add("${file}: ## DESCRIPTION is missing or empty.") }
    if ($sections.Contains('NOTES')) { $doc.Notes = Split-Paragraph $sections['NOTES'].Lines }

    if ($sections.Contains('EXAMPLES')) {
        foreach ($example in $sections['EXAMPLES'].Items) {
            $code = [System.Collections.Generic.List[string]]::new()
            $remarks = [System.Collections.Generic.List[string]]::new()
            $inCode = $false
            foreach ($line in $example.Lines) {
                if ($line -match '^\s*```') {
                    if ($inCode) { $inCode = $false } else { $inCode = $true; if ($code.Count -gt 0) { $code.Add('') } }
                    continue
                }
                if ($inCode) { $code.Add($line) } else { $remarks.Add($line) }
            }
            if ($code.Count -eq 0) { $Problems.Add("${file}: example '$($example.Title)' has no ```powershell code block.") }
            $remarkParagraphs = Split-Paragraph $remarks
            if (-not $remarkParagraphs) { $Problems.Add("${file}: example '$($example.Title)' has no remarks: say what it does and what it shows, after the code block.") }
            $doc.Examples.Add([ordered]@{ Title = $example.Title; Code = ($code -join "`n").TrimEnd(); Remarks = $remarkParagraphs })
        }
    }
    if ($doc.Examples.Count -lt 2) { $Problems.Add("${file}: has $($doc.Examples.Count) example(s) under ## EXAMPLES; at least two real examples are required.") }

    if ($sections.Contains('PARAMETERS')) {
        foreach ($parameter in $sections['PARAMETERS'].Items) {
            if ($parameter.Title -eq 'CommonParameters') { continue }
            if ($parameter.Title -notmatch '^-(\w+)$') { $Problems.Add("${file}: parameter heading '### $($parameter.Title)' should be '### -<Name>'."); continue }
            $name = $Matches[1]
            $text = [System.Collections.Generic.List[string]]::new()
            $settings = @{}
            $inYaml = $false
            foreach ($line in $parameter.Lines) {
                if ($line -match '^\s*```yaml\s*$') { $inYaml = $true; continue }
                if ($inYaml -and $line -match '^\s*```\s*$') { $inYaml = $false; continue }
                if ($inYaml) {
                    if ($line -match '^\s*$') { continue }
                    if ($line -match '^([^:]+):\s*(.*)$' -and $Matches[1].Trim() -in 'Default value', 'Accept wildcard characters') { $settings[$Matches[1].Trim()] = $Matches[2].Trim() }
                    elseif ($line -match '^([^:]+):' -and $Matches[1].Trim() -in $DerivedYamlKeys) { continue }
                    else { $Problems.Add("${file}: -${name}: '$($line.Trim())' is not a key this builder knows; only 'Default value' and 'Accept wildcard characters' are read (platyPS's other keys are ignored: they come from the cmdlet).") }
                    continue
                }
                $text.Add($line)
            }
            if ($doc.Parameters.Contains($name)) { $Problems.Add("${file}: -$name is described twice.") }
            $doc.Parameters[$name] = [ordered]@{ Description = Split-Paragraph $text; Default = $settings['Default value']; Globbing = $settings['Accept wildcard characters'] }
        }
    }

    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        if (-not $sections.Contains($kind)) { continue }
        foreach ($type in $sections[$kind].Items) {
            $doc[$kind.Substring(0, 1) + $kind.Substring(1).ToLowerInvariant()].Add([ordered]@{ Type = $type.Title; Description = Split-Paragraph $type.Lines })
        }
    }

    if ($doc.OnlineVersion) { $doc.Links.Add([ordered]@{ Text = 'Online Version:'; Uri = $doc.OnlineVersion }) }
    if ($sections.Contains('RELATED LINKS')) {
        foreach ($line in $sections['RELATED LINKS'].Lines) {
            $trimmed = ($line -replace '^\s*[-*]\s+', '').Trim()
            if (-not $trimmed) { continue }
            if ($trimmed -match '^\[([^\]]+)\]\(([^)]*)\)$') {
                $uri = if ($Matches[2] -match '^https?://') { $Matches[2] } else { '' }
                $doc.Links.Add([ordered]@{ Text = $Matches[1]; Uri = $uri })
            } else {
                $doc.Links.Add([ordered]@{ Text = $trimmed; Uri = '' })
            }
        }
    }
    $doc
}

#endregion

#region Cmdlet metadata

function Get-ShortTypeName {
    param([Type] $Type)
    if ($Type.IsArray) { return (Get-ShortTypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { return Get-ShortTypeName $Type.GetGenericArguments()[0] }
    $Type.Name
}

function Get-DefaultValue {
    # The value a fresh instance of the cmdlet class holds: what the parameter is when it is not given.
    param($Instance, [string] $Name, [Type] $ParameterType)
    if ($ParameterType -eq [System.Management.Automation.SwitchParameter]) { return 'False' }
    if ($null -eq $Instance) { return $null }
    $property = $Instance.GetType().GetProperty($Name)
    if ($null -eq $property) { return $null }
    $value = $property.GetValue($Instance)
    if ($null -eq $value) { return $null }
    if ($value -is [string] -and $value -eq '') { return $null }
    if ($value -is [Array] -and $value.Length -eq 0) { return $null }
    if ($value -is [bool]) { return "$value" }
    if ($value -is [IFormattable]) { return $value.ToString($null, [cultureinfo]::InvariantCulture) }
    "$value"
}

function Get-ParameterFacts {
    # Everything the cmdlet says about one parameter, across its parameter sets.
    param([System.Management.Automation.CommandInfo] $Command, [string] $Name, $Instance)
    $metadata = $Command.Parameters[$Name]
    $perSet = @($Command.ParameterSets | ForEach-Object { $set = $_; $set.Parameters | Where-Object Name -eq $Name | ForEach-Object { [pscustomobject]@{ Set = $set.Name; Info = $_ } } })
    $validValues = $null
    $notes = [System.Collections.Generic.List[string]]::new()
    foreach ($attribute in $metadata.Attributes) {
        if ($attribute -is [System.Management.Automation.ValidateSetAttribute]) { $validValues = @($attribute.ValidValues) }
        if ($attribute -is [System.Management.Automation.ValidateRangeAttribute] -and $null -ne $attribute.MinRange) {
            $notes.Add("Valid range: $($attribute.MinRange) to $($attribute.MaxRange).")
        }
    }
    $elementType = if ($metadata.ParameterType.IsArray) { $metadata.ParameterType.GetElementType() } else { $metadata.ParameterType }
    if ($null -eq $validValues -and $elementType.IsEnum) { $validValues = [Enum]::GetNames($elementType) }
    if ($validValues) { $notes.Insert(0, "Accepted values: $($validValues -join ', ').") }

    $byValue = @($perSet | Where-Object { $_.Info.ValueFromPipeline }).Count -gt 0
    $byName = @($perSet | Where-Object { $_.Info.ValueFromPipelineByPropertyName }).Count -gt 0
    $pipeline = switch ($true) {
        ($byValue -and $byName) { 'True (ByValue, ByPropertyName)'; break }
        $byValue { 'True (ByValue)'; break }
        $byName { 'True (ByPropertyName)'; break }
        default { 'False' }
    }
    $positions = @($perSet | Where-Object { $_.Info.Position -ge 0 } | ForEach-Object { $_.Info.Position } | Select-Object -Unique)
    [pscustomobject]@{
        Name        = $Name
        Type        = $metadata.ParameterType
        ShortType   = Get-ShortTypeName $metadata.ParameterType
        IsSwitch    = $metadata.SwitchParameter
        Required    = @($perSet | Where-Object { -not $_.Info.IsMandatory }).Count -eq 0 -and $perSet.Count -gt 0
        Position    = if ($positions.Count -gt 0) { "$($positions[0])" } else { 'named' }
        Pipeline    = $pipeline
        Aliases     = if ($metadata.Aliases.Count -gt 0) { $metadata.Aliases -join ', ' } else { 'none' }
        Globbing    = @($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }).Count -gt 0
        ValidValues = $validValues
        Notes       = $notes.ToArray()
        Default     = Get-DefaultValue -Instance $Instance -Name $Name -ParameterType $metadata.ParameterType
        Sets        = @($perSet | ForEach-Object Set)
    }
}

function New-CmdletInstance {
    param([System.Management.Automation.CmdletInfo] $Command)
    try { [Activator]::CreateInstance($Command.ImplementingType) } catch { $null }
}

function Get-DocumentedParameterNames {
    param([System.Management.Automation.CommandInfo] $Command)
    @($Command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters })
}

#endregion

#region MAML writing

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

function Write-Paragraphs {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)
    foreach ($paragraph in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $ns.maml, $paragraph) }
}

function Write-MamlType {
    param([System.Xml.XmlWriter] $Writer, [string] $Name)
    $Writer.WriteStartElement('dev', 'type', $ns.dev)
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Name)
    $Writer.WriteElementString('maml', 'uri', $ns.maml, '')
    $Writer.WriteEndElement()
}

function Write-MamlParameter {
    param([System.Xml.XmlWriter] $Writer, $Facts, [string[]] $Description, [string] $Default, [bool] $Globbing,
        [bool] $Required, [string] $Position, [switch] $InSyntax)
    $Writer.WriteStartElement('command', 'parameter', $ns.command)
    $Writer.WriteAttributeString('required', $Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', $Facts.Type.IsArray.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('globbing', $Globbing.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Facts.Pipeline)
    $Writer.WriteAttributeString('position', $Position)
    $Writer.WriteAttributeString('aliases', $Facts.Aliases)
    $Writer.WriteElementString('maml', 'name', $ns.maml, $Facts.Name)
    $Writer.WriteStartElement('maml', 'description', $ns.maml)
    Write-Paragraphs $Writer (@($Description) + @($Facts.Notes))
    $Writer.WriteEndElement()
    if ($Facts.ValidValues) {
        $Writer.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($value in $Facts.ValidValues) {
            $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
            $Writer.WriteAttributeString('required', 'false')
            $Writer.WriteAttributeString('command', 'variableLength', $ns.command, 'false')
            $Writer.WriteString($value)
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }
    # In the syntax a switch has no value placeholder ([-PassThru]); in the parameter list it shows its type.
    if (-not ($InSyntax -and $Facts.IsSwitch)) {
        $Writer.WriteStartElement('command', 'parameterValue', $ns.command)
        $Writer.WriteAttributeString('required', (-not $Facts.IsSwitch).ToString().ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', $Facts.Type.IsArray.ToString().ToLowerInvariant())
        $Writer.WriteString($Facts.ShortType)
        $Writer.WriteEndElement()
    }
    Write-MamlType $Writer $Facts.Type.FullName
    $Writer.WriteElementString('dev', 'defaultValue', $ns.dev, $Default)
    $Writer.WriteEndElement()
}

function Write-CommandHelp {
    param([System.Xml.XmlWriter] $Writer, [System.Management.Automation.CmdletInfo] $Command, $Doc, [hashtable] $Facts, [hashtable] $Descriptions)
    $Writer.WriteStartElement('command', 'command', $ns.command)
    $Writer.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $Writer.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $Writer.WriteAttributeString('xmlns', 'MSHelp', $null, $ns.MSHelp)

    $Writer.WriteStartElement('command', 'details', $ns.command)
    $Writer.WriteElementString('command', 'name', $ns.command, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $ns.command, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $ns.command, $Command.Noun)
    $Writer.WriteStartElement('maml', 'description', $ns.maml)
    Write-Paragraphs $Writer @($Doc.Synopsis)
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('maml', 'description', $ns.maml)
    Write-Paragraphs $Writer $Doc.Description
    $Writer.WriteEndElement()

    # Syntax: one item per parameter set, the default set first; positional parameters by position, then
    # mandatory ones, then the rest in declaration order, -WhatIf/-Confirm last.
    $Writer.WriteStartElement('command', 'syntax', $ns.command)
    $sets = @($Command.ParameterSets | Sort-Object { -not $_.IsDefault })
    foreach ($set in $sets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $Writer.WriteElementString('maml', 'name', $ns.maml, $Command.Name)
        $order = 0
        $parameters = $set.Parameters | Where-Object { $_.Name -notin $CommonParameters -or $_.Name -in 'WhatIf', 'Confirm' } | ForEach-Object {
            $rank = if ($_.Name -in 'WhatIf', 'Confirm') { 3 } elseif ($_.Position -ge 0) { 0 } elseif ($_.IsMandatory) { 1 } else { 2 }
            [pscustomobject]@{ Info = $_; Rank = $rank; Position = $_.Position; Order = $order++ }
        } | Sort-Object Rank, Position, Order
        foreach ($entry in $parameters) {
            $info = $entry.Info
            $position = if ($info.Position -ge 0) { "$($info.Position)" } else { 'named' }
            $f = $Facts[$info.Name]
            Write-MamlParameter $Writer $f $Descriptions[$info.Name] $f.DefaultText $f.EffectiveGlobbing $info.IsMandatory $position -InSyntax
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($name in $Facts.Keys | Sort-Object { $Facts[$_].Order }) {
        $f = $Facts[$name]
        Write-MamlParameter $Writer $f $Descriptions[$name] $f.DefaultText $f.EffectiveGlobbing $f.Required $f.Position
    }
    $Writer.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', 'Inputs'), @('returnValues', 'returnValue', 'Outputs'))) {
        $Writer.WriteStartElement('command', $kind[0], $ns.command)
        foreach ($entry in $Doc[$kind[2]]) {
            $Writer.WriteStartElement('command', $kind[1], $ns.command)
            Write-MamlType $Writer $entry.Type
            $Writer.WriteStartElement('maml', 'description', $ns.maml)
            Write-Paragraphs $Writer $entry.Description
            $Writer.WriteEndElement()
            $Writer.WriteEndElement()
        }
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('maml', 'alertSet', $ns.maml)
    $Writer.WriteStartElement('maml', 'alert', $ns.maml)
    Write-Paragraphs $Writer $Doc.Notes
    $Writer.WriteEndElement()
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'examples', $ns.command)
    $number = 0
    foreach ($example in $Doc.Examples) {
        $number++
        $title = $example.Title -replace '^Example\s+\d+\s*:?\s*', ''
        $Writer.WriteStartElement('command', 'example', $ns.command)
        $Writer.WriteElementString('maml', 'title', $ns.maml, "--------- Example ${number}: $title ---------")
        $Writer.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $ns.dev)
        # The empty paragraph keeps a blank line between one example's remarks and the next title.
        Write-Paragraphs $Writer (@($example.Remarks) + '')
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $Doc.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $Writer.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
        $Writer.WriteElementString('maml', 'uri', $ns.maml, $link.Uri)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

#endregion

#region Skeletons

function New-DocSkeleton {
    param([System.Management.Automation.CmdletInfo] $Command)
    $instance = New-CmdletInstance $Command
    $text = [System.Text.StringBuilder]::new()
    $null = $text.AppendLine("# $($Command.Name)").AppendLine().AppendLine('## SYNOPSIS').AppendLine('{{ One sentence: what the cmdlet does }}').AppendLine()
    $null = $text.AppendLine('## DESCRIPTION').AppendLine('{{ What it does, when to use it, what it writes to the pipeline }}').AppendLine()
    $null = $text.AppendLine('## EXAMPLES').AppendLine()
    foreach ($n in 1, 2) {
        $null = $text.AppendLine("### Example ${n}: {{ title }}").AppendLine('```powershell').AppendLine("$($Command.Name) {{ real, working parameters }}").AppendLine('```').AppendLine().AppendLine('{{ What it does and what the output shows }}').AppendLine()
    }
    $null = $text.AppendLine('## PARAMETERS').AppendLine()
    foreach ($name in Get-DocumentedParameterNames $Command) {
        if ($name -in 'WhatIf', 'Confirm') { continue }
        $facts = Get-ParameterFacts $Command $name $instance
        $null = $text.AppendLine("### -$name").AppendLine("{{ Describe -$name ($($facts.ShortType)$(if ($facts.Required) { ', mandatory' })) }}").AppendLine()
    }
    $null = $text.AppendLine('### CommonParameters').AppendLine('This cmdlet supports the common parameters. See about_CommonParameters.').AppendLine()
    $null = $text.AppendLine('## INPUTS').AppendLine().AppendLine('### None').AppendLine('{{ Or the type taken from the pipeline }}').AppendLine()
    $null = $text.AppendLine('## OUTPUTS').AppendLine()
    foreach ($type in $Command.OutputType) { $null = $text.AppendLine("### $($type.Name)").AppendLine('{{ When it is written and what it holds }}').AppendLine() }
    $null = $text.AppendLine('## NOTES').AppendLine('{{ Notes, or delete this section }}').AppendLine()
    $null = $text.AppendLine('## RELATED LINKS').AppendLine().AppendLine('- about_KustomerSync')
    $text.ToString()
}

#endregion

$ModuleRoot = (Resolve-Path -LiteralPath $ModuleRoot).Path
$SourceFolder = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($SourceFolder)
$manifest = Join-Path $ModuleRoot 'KustomerSync.psd1'
if (-not (Test-Path -LiteralPath $manifest)) { Write-Host "HelpBuilder: no KustomerSync.psd1 in '$ModuleRoot'." -ForegroundColor Red; exit 1 }
$module = Import-Module $manifest -PassThru -Force
$commands = @($module.ExportedCmdlets.Values | Sort-Object Name)

if ($NewDoc) {
    New-Item -ItemType Directory -Path $SourceFolder -Force | Out-Null
    foreach ($name in $NewDoc) {
        $command = $commands | Where-Object Name -eq $name
        if (-not $command) { $command = Get-Command -Name $name -CommandType Cmdlet -ErrorAction SilentlyContinue }
        if (-not $command) { Write-Host "HelpBuilder: '$name' is not a cmdlet of the built module; build it first." -ForegroundColor Red; exit 1 }
        $path = Join-Path $SourceFolder "$name.md"
        if (Test-Path -LiteralPath $path) { Write-Host "HelpBuilder: $path exists; not overwritten." -ForegroundColor Yellow; continue }
        [System.IO.File]::WriteAllText($path, (New-DocSkeleton $command))
        Write-Host "HelpBuilder: wrote $path; replace every {{ placeholder }}." -ForegroundColor Cyan
    }
    exit 0
}

$problems = [System.Collections.Generic.List[string]]::new()
$docs = @{}
if (Test-Path -LiteralPath $SourceFolder) {
    foreach ($file in Get-ChildItem -LiteralPath $SourceFolder -Filter '*.md' | Where-Object { $_.Name -notlike '_*' -and $_.Name -ne 'README.md' }) {
        # A doc's own problems count only when its cmdlet is exported; a doc written ahead of its cmdlet only warns.
        $docProblems = [System.Collections.Generic.List[string]]::new()
        $docs[$file.BaseName] = Read-CmdletDoc -Path $file.FullName -Problems $docProblems
        if ($file.BaseName -in $commands.Name) { $problems.AddRange($docProblems) }
        else {
            Write-Warning "HelpBuilder: docs/cmdlets/$($file.Name) describes a cmdlet the module does not export; it is not built into the help."
            foreach ($problem in $docProblems) { Write-Warning "HelpBuilder: $problem" }
        }
    }
}

$entries = [System.Collections.Generic.List[object]]::new()
foreach ($command in $commands) {
    $doc = $docs[$command.Name]
    if (-not $doc) {
        $problems.Add("$($command.Name): no help source. Create docs/cmdlets/$($command.Name).md (start with: dotnet pwsh build/HelpBuilder.ps1 -ModuleRoot $ModuleRoot -SourceFolder $SourceFolder -NewDoc $($command.Name)).")
        continue
    }
    $instance = New-CmdletInstance $command
    $facts = @{}
    $descriptions = @{}
    $order = 0
    foreach ($name in Get-DocumentedParameterNames $command) {
        $f = Get-ParameterFacts $command $name $instance
        $documented = $doc.Parameters[$name]
        # Doc names are matched case-insensitively by the hashtable; insist on the cmdlet's spelling.
        $docName = $doc.Parameters.Keys | Where-Object { $_ -eq $name } | Select-Object -First 1
        if ($documented -and $docName -cne $name) { $problems.Add("$($doc.File): -$docName should be spelled -$name, as the cmdlet declares it.") }
        $description = if ($documented) { @($documented.Description) } else { @() }
        if (-not $description -and $StandardDescriptions.ContainsKey($name)) { $description = @($StandardDescriptions[$name]) }
        if (-not $description) { $problems.Add("$($doc.File): -$name has no description under ## PARAMETERS (add '### -$name' and a sentence or more).") }
        $defaultText = if ($documented -and $documented.Default) { $documented.Default } elseif ($null -ne $f.Default) { $f.Default } else { 'None' }
        $globbing = if ($documented -and $documented.Globbing) { $documented.Globbing -eq 'True' } else { $f.Globbing }
        $f | Add-Member -NotePropertyMembers @{ DefaultText = $defaultText; EffectiveGlobbing = $globbing; Order = $order++ }
        $facts[$name] = $f
        $descriptions[$name] = $description
    }
    foreach ($name in $doc.Parameters.Keys) {
        if (-not $command.Parameters.ContainsKey($name)) {
            $problems.Add("$($doc.File): describes -$name, which $($command.Name) does not have. Its parameters: $((Get-DocumentedParameterNames $command | ForEach-Object { "-$_" }) -join ', ').")
        } elseif ($name -in $CommonParameters -and $name -notin 'WhatIf', 'Confirm') {
            $problems.Add("$($doc.File): -$name is a common parameter; do not describe it (### CommonParameters covers it).")
        }
    }
    foreach ($type in $command.OutputType) {
        if ($type.Type -eq [void] -or $type.Name -eq 'System.Void') { continue }
        $full = $type.Name
        $short = $full.Split('.')[-1]
        if (-not ($doc.Outputs | Where-Object { $_.Type -eq $full -or $_.Type -eq $short })) {
            $problems.Add("$($doc.File): $($command.Name) declares [OutputType($full)], which ## OUTPUTS does not list (add '### $full').")
        }
    }
    $entries.Add([pscustomobject]@{ Command = $command; Doc = $doc; Facts = $facts; Descriptions = $descriptions })
}

if ($problems.Count -gt 0) {
    Write-Host "HelpBuilder: the cmdlet help cannot be built ($($problems.Count) problem(s)):" -ForegroundColor Red
    foreach ($problem in $problems) { Write-Host "  - $problem" -ForegroundColor Red }
    exit 1
}

# Write the MAML once, then place a copy beside each edition's cmdlet assembly.
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$buffer = [System.IO.MemoryStream]::new()
$writer = [System.Xml.XmlWriter]::Create($buffer, $settings)
$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')
foreach ($entry in $entries) { Write-CommandHelp $writer $entry.Command $entry.Doc $entry.Facts $entry.Descriptions }
$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Flush()
$bytes = $buffer.ToArray()
$writer.Dispose()

$written = @()
foreach ($edition in 'Core', 'Desktop') {
    $editionFolder = Join-Path $ModuleRoot $edition
    if (-not (Test-Path -LiteralPath $editionFolder)) { continue }
    $culture = Join-Path $editionFolder 'en-US'
    New-Item -ItemType Directory -Path $culture -Force | Out-Null
    $path = Join-Path $culture $HelpFileName
    [System.IO.File]::WriteAllBytes($path, $bytes)
    $null = [xml][System.IO.File]::ReadAllText($path)
    $written += $path
}

# The about topic: module/en-US is copied to the module root by the build; make sure it is there.
$about = Join-Path $ModuleRoot 'en-US/about_KustomerSync.help.txt'
if (-not (Test-Path -LiteralPath $about)) {
    $source = Join-Path (Split-Path (Split-Path $SourceFolder)) 'module/en-US/about_KustomerSync.help.txt'
    if (Test-Path -LiteralPath $source) {
        New-Item -ItemType Directory -Path (Split-Path $about) -Force | Out-Null
        Copy-Item -LiteralPath $source -Destination $about
    } else {
        Write-Host "HelpBuilder: module/en-US/about_KustomerSync.help.txt is missing." -ForegroundColor Red
        exit 1
    }
}

# Read the help back through Get-Help, as a user would: a file PowerShell cannot find or parse fails here.
foreach ($entry in $entries) {
    $help = Get-Help -Name $entry.Command.Name -Full
    $synopsis = "$($help.Synopsis)".Trim()
    $examples = @($help.examples.example).Count
    if ($synopsis -ne $entry.Doc.Synopsis -or $examples -ne $entry.Doc.Examples.Count) {
        $problems.Add("$($entry.Command.Name): Get-Help did not read the generated help back (synopsis '$synopsis', $examples example(s)).")
    }
}
if ($problems.Count -gt 0) {
    Write-Host 'HelpBuilder: the generated help does not load:' -ForegroundColor Red
    foreach ($problem in $problems) { Write-Host "  - $problem" -ForegroundColor Red }
    exit 1
}
Write-Host "HelpBuilder: help for $($entries.Count) cmdlets written to $($written -join ', ')" -ForegroundColor Cyan
exit 0
