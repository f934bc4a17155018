# The guards against a broken source, end to end: a definition reading a SQLite table of people left-joined to their
# tiers syncs once, then its source breaks the way real ones do (the table comes back empty, the joined table stops
# matching). The run is refused before any write (KustomerSync.GuardTripped), recorded as Refused, alerted to a local
# webhook receiver, shown by -WhatIf, run with -Force; the scheduled-task and runbook recipes fail as they should.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module (Join-Path $PSScriptRoot 'SyncFixtures.psm1') -Force
    $script:Key = 'ks-guards-' + [guid]::NewGuid().ToString('N')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-guards-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $keysFile = New-EmulatorKeyFile -Folder $script:Work -Key $script:Key
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile, '--rate-limit', '0'
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Receiver = Start-WebhookReceiver -Port (Get-FreeLoopbackPort)
    $env:KS_GUARDS_TEST_KEY = $script:Key
    $env:KS_GUARDS_TEST_HOOK = $script:Receiver.Url
    $script:Wrapper = (Resolve-Path (Join-Path $PSScriptRoot '../../module/examples/Invoke-ScheduledSync.ps1')).Path
    $script:ModuleParent = Split-Path ((Get-Module KustomerSync).ModuleBase) | Split-Path

    function script:New-GuardedSync {
        # 150 people, every fifth with a tier in a table of its own, synced by a query that joins the two.
        param([string] $Name, [string] $Guards = '')
        $db = Join-Path $script:Work "$Name.db"
        Invoke-Sqlite -Path $db -Sql @"
create table people (id text primary key, full_name text);
create table tiers (person_id text primary key, tier text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 150)
insert into people select '$Name-' || i, 'Person ' || i from n;
insert into tiers select id, 'gold' from people where cast(substr(id, length('$Name-') + 1) as integer) % 5 = 0
"@
        $path = Join-Path $script:Work "$Name.sync.psd1"
        @"
@{
    Name = '$Name'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'
                Query = 'select p.id as externalId, p.full_name as name, t.tier as tierStr from people p left join tiers t on t.person_id = p.id' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KS_GUARDS_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = '$Name.state.db' }
    Alerts = @{ WebhookEnvironmentVariable = 'KS_GUARDS_TEST_HOOK' }
    $(if ($Guards) { "Guards = @{ $Guards }" })
}
"@ | Set-Content -Path $path
        [pscustomobject]@{ Path = $path; Db = $db; Name = $Name }
    }

    function script:Get-Customers([string] $Name) { @(Get-EmulatorCustomers $script:Emulator.BaseUri | Where-Object { $_.attributes.externalId -like "$Name-*" }) }
    function script:Get-Tiered([string] $Name) { @(Get-Customers $Name | Where-Object { $_.attributes.custom.tierStr -eq 'gold' }).Count }
}

AfterAll {
    Stop-WebhookReceiver $script:Receiver
    Stop-KustomerEmulator $script:Emulator
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:KS_GUARDS_TEST_KEY, Env:KS_GUARDS_TEST_HOOK -ErrorAction SilentlyContinue
}

Describe 'Guards against a broken source' {
    It 'refuses a run whose table came back empty, records it Refused, alerts, and writes nothing' {
        $sync = New-GuardedSync -Name 'gd-empty'
        Invoke-KustomerSync -Path $sync.Path 6>$null
        $LASTEXITCODE | Should -Be 0
        (Get-Customers $sync.Name).Count | Should -Be 150
        $null = Get-WebhookPosts $script:Receiver

        Invoke-Sqlite -Path $sync.Db -Sql 'delete from people'
        $err = $null
        try { Invoke-KustomerSync -Path $sync.Path -SummaryVariable summary -ErrorAction Stop 6>$null } catch { $err = $_ }

        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Match '^KustomerSync\.GuardTripped'
        $err.Exception.Message | Should -Match 'EmptySource: The source returned no rows, while the sync knows 150 records and its last successful run read 150 rows'
        $err.ErrorDetails.RecommendedAction | Should -Match '-Force'
        $LASTEXITCODE | Should -Be 1
        $summary.GuardsTripped | Should -Be @('EmptySource')
        $run = Get-KustomerSyncRun -StatePath (Join-Path $script:Work 'gd-empty.state.db') -Sync $sync.Name -Last 1
        $run.Status | Should -Be 'Refused'
        $run.Message | Should -Match 'EmptySource'
        $posts = @(Get-WebhookPosts $script:Receiver)
        $posts.Count | Should -Be 1
        $posts[0].status | Should -Be 'Refused'
        $posts[0].guard | Should -Be 'EmptySource'
        $posts[0].errorId | Should -Be 'KustomerSync.GuardTripped'
        (Get-Customers $sync.Name).Count | Should -Be 150
    }

    It 'refuses a run whose join stopped matching (a column about to be wiped), shows it under -WhatIf, and runs with -Force' {
        $sync = New-GuardedSync -Name 'gd-join' -Guards 'MinRecordsToJudge = 20'
        Invoke-KustomerSync -Path $sync.Path 6>$null
        Get-Tiered $sync.Name | Should -Be 30
        $null = Get-WebhookPosts $script:Receiver

        # The tiers table was emptied upstream: the left join still returns every person, with a null tier. Only 30 of
        # the 150 records change (under TooManyChanges' 25 %), but each of the 30 would lose its tier.
        Invoke-Sqlite -Path $sync.Db -Sql 'delete from tiers'

        Invoke-KustomerSync -Path $sync.Path -WhatIf -SummaryVariable planned -WarningVariable warned -WarningAction SilentlyContinue 6>$null
        $planned.GuardsTripped | Should -Be @('FieldCleared')
        @($warned | Where-Object { "$_" -match '^The FieldCleared guard would refuse this run: The run would clear custom\.tierStr on 30 of the 30 records that had a value in it' }).Count | Should -Be 1
        @(Get-WebhookPosts $script:Receiver).Count | Should -Be 0

        { Invoke-KustomerSync -Path $sync.Path -ErrorAction Stop 6>$null } | Should -Throw -ErrorId 'KustomerSync.GuardTripped*'
        Get-Tiered $sync.Name | Should -Be 30
        $posts = @(Get-WebhookPosts $script:Receiver)
        $posts.Count | Should -Be 1
        $posts[0].guard | Should -Be 'FieldCleared'

        Invoke-KustomerSync -Path $sync.Path -Force -SummaryVariable forced 6>$null
        $LASTEXITCODE | Should -Be 0
        $forced.Updated | Should -Be 30
        Get-Tiered $sync.Name | Should -Be 0
    }

    It 'turns a guard off with $null and every guard off with Force in the definition' {
        $sync = New-GuardedSync -Name 'gd-off' -Guards 'MinRecordsToJudge = 20; MaxClearShare = $null; MaxChangeShare = $null'
        Invoke-KustomerSync -Path $sync.Path 6>$null
        Invoke-Sqlite -Path $sync.Db -Sql 'delete from tiers'
        Invoke-KustomerSync -Path $sync.Path 6>$null
        $LASTEXITCODE | Should -Be 0
        Get-Tiered $sync.Name | Should -Be 0

        $forced = New-GuardedSync -Name 'gd-force' -Guards 'Force = $true'
        Invoke-KustomerSync -Path $forced.Path 6>$null
        Invoke-Sqlite -Path $forced.Db -Sql 'delete from people'
        Invoke-KustomerSync -Path $forced.Path 6>$null
        $LASTEXITCODE | Should -Be 0
    }

    It 'names a guard setting that is out of range before connecting to anything' {
        $sync = New-GuardedSync -Name 'gd-bad' -Guards 'MaxChangeShare = 2; MinRecordsToJudge = 0; Strict = $true'
        $err = $null
        try { Invoke-KustomerSync -Path $sync.Path -ErrorAction Stop 6>$null } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Match '^KustomerSync\.InvalidDefinition'
        $err.Exception.Message | Should -Match 'Guards\.MaxChangeShare: must be a number from 0\.01 to 1'
        $err.Exception.Message | Should -Match 'Guards\.MinRecordsToJudge: 0 is out of range'
        $err.Exception.Message | Should -Match 'Guards\.Strict: is not a setting of Guards'
    }

    It 'the scheduled-task recipe exits 1 with one FAILED line when a guard refuses the run, and -Force runs it' {
        $sync = New-GuardedSync -Name 'gd-task'
        Invoke-KustomerSync -Path $sync.Path 6>$null
        Invoke-Sqlite -Path $sync.Db -Sql 'delete from people'
        $log = Join-Path $script:Work 'gd-task.jsonl'

        $run = Invoke-ChildScript -File $script:Wrapper -Arguments @('-Path', $sync.Path, '-LogPath', $log) -ModuleParent $script:ModuleParent
        $run.ExitCode | Should -Be 1
        @($run.Errors -split '\r?\n' | Where-Object { $_ -match '^FAILED KustomerSync\.GuardTripped: .*EmptySource' }).Count | Should -Be 1
        $entry = Get-Content $log | Select-Object -Last 1 | ConvertFrom-Json
        $entry.ErrorId | Should -Be 'KustomerSync.GuardTripped'
        $entry.GuardsTripped | Should -Be @('EmptySource')

        (Invoke-ChildScript -File $script:Wrapper -Arguments @('-Path', $sync.Path, '-Force') -ModuleParent $script:ModuleParent).ExitCode | Should -Be 0
    }

    It 'Invoke-KustomerUpsert refuses piped rows that would change most known records; -Guards sets the thresholds and -Force runs anyway' {
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KS_GUARDS_TEST_KEY -Name guards | Out-Null
        $state = Join-Path $script:Work 'gu-upsert.state.db'
        $people = { param($Renamed) 1..120 | ForEach-Object { [pscustomobject]@{ externalId = "gu-$_"; name = if ($_ -le $Renamed) { "Renamed $_" } else { "Person $_" } } } }
        $created = & $people 0 | Invoke-KustomerUpsert Customer -StatePath $state -Destination guards 6>$null
        @($created | Where-Object Status -eq 'Created').Count | Should -Be 120

        $refused = & $people 60 | Invoke-KustomerUpsert Customer -StatePath $state -Destination guards -SummaryVariable summary -ErrorVariable failed -ErrorAction SilentlyContinue 6>$null
        $summary.GuardsTripped | Should -Be @('TooManyChanges')
        @($failed | Where-Object { $_.FullyQualifiedErrorId -like 'KustomerSync.GuardTripped*' }).Count | Should -Be 1
        "$($failed[0].Exception.Message)" | Should -Match 'change 60 of the 120 records the sync knows \(50 %'
        @($refused).Count | Should -Be 120
        @($refused | Where-Object ErrorId -eq 'KustomerSync.NotAttempted').Count | Should -Be 60
        @(Get-Customers 'gu' | Where-Object { $_.attributes.name -like 'Renamed*' }).Count | Should -Be 0
        (Get-KustomerSyncRun -StatePath $state -Last 1).Status | Should -Be 'Refused'

        { & $people 60 | Invoke-KustomerUpsert Customer -StatePath $state -Destination guards -Guards @{ MaxChangeShare = 2 } } | Should -Throw -ErrorId 'KustomerSync.InvalidArgument*'
        $passed = & $people 60 | Invoke-KustomerUpsert Customer -StatePath $state -Destination guards -Guards @{ MaxChangeShare = 0.6 } 6>$null
        @($passed | Where-Object Status -eq 'Updated').Count | Should -Be 60

        $forced = & $people 120 | Invoke-KustomerUpsert Customer -StatePath $state -Destination guards -Force 6>$null
        @($forced | Where-Object Status -eq 'Updated').Count | Should -Be 60
        @(Get-Customers 'gu' | Where-Object { $_.attributes.name -like 'Renamed*' }).Count | Should -Be 120
    }
}
