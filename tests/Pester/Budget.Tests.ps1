# The sync's share of the org's rate budget (issue 15): -BudgetShare and -MaxRequestsPerMinute on Invoke-KustomerUpsert,
# BudgetShare and MaxRequestsPerMinute in a sync definition. The summary shows the org's limit, the sync's budget, the
# most it sent in one window and what that left; what the emulator said was left after each answer (the -Debug lines)
# shows that the org kept the rest of every window. The emulator's windows run on the wall clock, so nothing here
# depends on how long a run takes, only on what was counted.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module (Join-Path $PSScriptRoot 'SyncFixtures.psm1') -Force
    $script:Key = 'ks-budget-' + [guid]::NewGuid().ToString('N')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-budget-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $script:KeysFile = New-EmulatorKeyFile -Folder $script:Work -Key $script:Key
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $env:KS_BUDGET_TEST_KEY = $script:Key
    # Requests sent before the emulator's window turned that it counts in the next one (they were on their way), as in
    # the engine's BudgetShareTests.
    $script:InFlightAtTurn = 4
    $script:Http = [System.Net.Http.HttpClient]::new()

    function script:Start-Org {
        # A fresh org for each measured run: the rate gate is the process's, one per org, and what an earlier run sent in
        # a window counts in it. 40 requests a 2-second window whose end every answer states, so a run held by its budget
        # waits for seconds, not for the minute the gate assumes while it knows no window's end.
        $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $script:KeysFile, '--rate-limit', '40', '--rate-window-seconds', '2', '--rate-reset-on-success', 'true'
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KS_BUDGET_TEST_KEY -Name budget -SkipConnectionTest
    }

    function script:Stop-Org {
        Disconnect-KustomerDestination -Name budget
        Stop-KustomerEmulator $script:Emulator
    }

    function script:Get-Stats { $script:Http.GetStringAsync("$($script:Emulator.BaseUri)/_emulator/stats").GetAwaiter().GetResult() | ConvertFrom-Json }

    function script:Get-OrgLeft {
        # What the emulator said the org had left after each answer, from the -Debug lines of a run.
        param([object[]] $Records)
        @($Records | Where-Object { $_ -is [System.Management.Automation.DebugRecord] } |
                ForEach-Object { if ($_.Message -match ', (\d+) of 40 requests left in the rate window') { [int]$Matches[1] } })
    }

    function script:New-Rows([int] $Count, [string] $Prefix) {
        1..$Count | ForEach-Object { [pscustomobject]@{ externalId = "$Prefix-$_"; name = "Person $_" } }
    }

    function script:New-BudgetSync {
        # A definition of 24 SQLite people with a state store of its own; $Settings is pasted into it.
        param([string] $Name, [string] $Settings)
        $db = Join-Path $script:Work "$Name.db"
        New-SqlitePeople -Path $db -Prefix $Name -Rows 24 -BadEmails 0
        $path = Join-Path $script:Work "$Name.sync.psd1"
        @"
@{
    Name = '$Name'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, full_name as name, email from people' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KS_BUDGET_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = '$Name.state.db' }
    $Settings
}
"@ | Set-Content -Path $path
        $path
    }

    function script:Assert-Budget {
        # The run needed more than one window's budget, kept to it by its own count and by the emulator's, drew no 429,
        # and its summary says so.
        param($Summary, [int[]] $OrgLeft, [int] $Budget, [int] $Limited)
        $Summary.RateLimit | Should -Be 40
        $Summary.RateBudget | Should -Be $Budget
        $Summary.Requests | Should -BeGreaterThan $Budget
        $Summary.RateUsed | Should -BeGreaterThan 0
        $Summary.RateUsed | Should -BeLessOrEqual $Budget
        $Summary.RateLeft | Should -Be (40 - $Summary.RateUsed)
        $Summary.RateLimited | Should -Be 0
        $Limited | Should -Be 0
        $OrgLeft.Count | Should -BeGreaterThan 0
        ($OrgLeft | Measure-Object -Minimum).Minimum | Should -BeGreaterOrEqual (40 - $Budget - $script:InFlightAtTurn)
    }
}

AfterAll {
    $script:Http.Dispose()
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:KS_BUDGET_TEST_KEY -ErrorAction SilentlyContinue
}

Describe 'Invoke-KustomerUpsert keeps to its budget' {
    BeforeEach { Start-Org }
    AfterEach { Stop-Org }

    It '-MaxRequestsPerMinute 10 takes at most 10 of the org''s 40 requests a window' {
        $records = @(New-Rows 24 'max' | Invoke-KustomerUpsert -Object Customer -Destination budget -NoBulk -StatePath (Join-Path $script:Work 'max.state.db') `
                -MaxRequestsPerMinute 10 -SummaryVariable summary -Debug 5>&1)
        $summary.Created | Should -Be 24
        Assert-Budget $summary (Get-OrgLeft $records) -Budget 10 -Limited (Get-Stats).rateLimited
    }

    It '-BudgetShare 0.25 takes at most a quarter of the org''s 40, and the smaller of share and cap wins' {
        $records = @(New-Rows 24 'share' | Invoke-KustomerUpsert -Object Customer -Destination budget -NoBulk -StatePath (Join-Path $script:Work 'share.state.db') `
                -BudgetShare 0.25 -MaxRequestsPerMinute 30 -SummaryVariable summary -Debug 5>&1)
        $summary.Created | Should -Be 24
        Assert-Budget $summary (Get-OrgLeft $records) -Budget 10 -Limited (Get-Stats).rateLimited
    }

    It 'without either, takes the default 75%' {
        New-Rows 2 'default' | Invoke-KustomerUpsert -Object Customer -Destination budget -NoBulk -SummaryVariable summary | Out-Null
        $summary.RateBudget | Should -Be 30
    }
}

Describe 'A sync definition keeps to its budget' {
    BeforeEach { Start-Org }
    AfterEach { Stop-Org }

    # Through the preference: Invoke-KustomerSync -Debug asks whether to continue at each line in this host.
    It 'MaxRequestsPerMinute = 10 takes at most 10 of the org''s 40 requests a window' {
        $DebugPreference = 'Continue'
        $records = @(Invoke-KustomerSync -Path (New-BudgetSync 'def-max' 'MaxRequestsPerMinute = 10') -SummaryVariable summary 5>&1 6>$null)
        $summary.Created | Should -Be 24
        Assert-Budget $summary (Get-OrgLeft $records) -Budget 10 -Limited (Get-Stats).rateLimited
    }

    It 'BudgetShare = 0.25 takes at most a quarter of the org''s 40 requests a window' {
        $DebugPreference = 'Continue'
        $records = @(Invoke-KustomerSync -Path (New-BudgetSync 'def-share' 'BudgetShare = 0.25') -SummaryVariable summary 5>&1 6>$null)
        $summary.Created | Should -Be 24
        Assert-Budget $summary (Get-OrgLeft $records) -Budget 10 -Limited (Get-Stats).rateLimited
    }
}

Describe 'A budget that is no share of the org is refused, naming the setting, before anything is sent' {
    BeforeAll { Start-Org }
    AfterAll { Stop-Org }

    It 'refuses -<Name> <Value>' -ForEach @(
        @{ Name = 'BudgetShare'; Value = 0 }, @{ Name = 'BudgetShare'; Value = 1.5 }, @{ Name = 'BudgetShare'; Value = -0.5 }
        @{ Name = 'MaxRequestsPerMinute'; Value = 0 }, @{ Name = 'MaxRequestsPerMinute'; Value = -5 }
    ) {
        $settings = @{ $Name = $Value }
        $failure = { New-Rows 1 'refused' | Invoke-KustomerUpsert -Object Customer -Destination budget @settings } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError*'
        $failure.Exception.Message | Should -BeLike "*parameter '$Name'*"
        (Get-Stats).totalRequests | Should -Be 0
    }

    It 'refuses <Setting> in a sync definition' -ForEach @(
        @{ Setting = 'BudgetShare = 0' }, @{ Setting = 'BudgetShare = 1.5' }, @{ Setting = 'BudgetShare = -0.5' }
        @{ Setting = 'MaxRequestsPerMinute = 0' }, @{ Setting = 'MaxRequestsPerMinute = 1.5' }, @{ Setting = 'MaxRequestsPerMinute = -5' }
    ) {
        $name, $value = $Setting -split ' = '
        $failure = { Invoke-KustomerSync -Path (New-BudgetSync "def-bad-$([guid]::NewGuid().ToString('N').Substring(0, 8))" $Setting) 6>$null } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidDefinition*'
        $failure.Exception.Message | Should -BeLike "*- ${name}: *$value*"
        (Get-Stats).totalRequests | Should -Be 0
    }
}
