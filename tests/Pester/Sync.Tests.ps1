# Invoke-KustomerSync end to end: declarative definitions against the emulator and the real Postgres (incremental
# runs, $LastRunStart, pushed-down diff, the per-sync lease), exit codes through a real `pwsh -File`, and secrets
# that never reach any output stream. Postgres parts are skipped without KUSTOMERSYNC_TEST_POSTGRES unless CI=true.

BeforeDiscovery {
    $script:HavePostgres = [bool]$env:KUSTOMERSYNC_TEST_POSTGRES -or $env:CI -eq 'true'
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module (Join-Path $PSScriptRoot 'SyncFixtures.psm1') -Force
    $script:SecretKey = 'ks-sync-secret-' + [guid]::NewGuid().ToString('N')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-sync-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $keysFile = Join-Path $script:Work 'keys.json'
    @{ keys = @(
            @{ key = $script:SecretKey; name = 'sync key'; roles = @('org.admin.klass.read', 'org.user.kobject.read', 'org.admin.metadata.read',
                    'org.admin.search.read', 'org.user.customer.write', 'org.user.kobject.write', 'org.permission.customer', 'org.permission.company') }
        ) } | ConvertTo-Json -Depth 5 | Set-Content $keysFile
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile, '--rate-limit', '0'
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $env:KS_SYNC_TEST_KEY = $script:SecretKey
    $script:Examples = Join-Path $PSScriptRoot '../../module/examples'
    # Children started with `pwsh -File` find the built module by name, as a scheduled task would.
    $script:ModuleParent = Split-Path ((Get-Module KustomerSync).ModuleBase) | Split-Path
    $script:Pg = $env:KUSTOMERSYNC_TEST_POSTGRES
    $env:KS_SYNC_TEST_PG = $script:Pg

    function script:New-Definition {
        # Writes a definition file from text; {{BASE}} is the emulator's URI.
        param([string] $Name, [string] $Text)
        $path = Join-Path $script:Work "$Name.sync.psd1"
        $Text.Replace('{{BASE}}', $script:Emulator.BaseUri) | Set-Content -Path $path
        $path
    }

    function script:New-SqliteSource {
        param([string] $Name, [int] $Rows, [string] $Prefix)
        $db = Join-Path $script:Work "$Name.db"
        $values = (1..$Rows | ForEach-Object { "('$Prefix-$_', 'Person $_', '$Prefix.$_@example.com')" }) -join ','
        Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$db" -Query "create table people (id text, full_name text, email text); insert into people values $values" | Out-Null
        $db
    }

    function script:Invoke-Child {
        param([string] $File, [string[]] $Arguments = @())
        $run = Invoke-ChildScript -File $File -Arguments $Arguments -ModuleParent $script:ModuleParent
        [pscustomobject]@{ ExitCode = $run.ExitCode; Output = $run.Output + $run.Errors }
    }

    function script:Get-Lookups {
        $routes = (Invoke-RestMethod "$($script:Emulator.BaseUri)/_emulator/stats").byRoute.PSObject.Properties
        [long](($routes | Where-Object Name -Like '*externalId=*' | Measure-Object -Property Value -Sum).Sum)
    }
    function script:Invoke-Psql {
        param([string] $Sql)
        Get-SourceRows -Provider Postgres -ConnectionString $script:Pg -Query $Sql
    }
}

AfterAll {
    Stop-KustomerEmulator $script:Emulator
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:KS_SYNC_TEST_KEY, Env:KS_SYNC_TEST_PG -ErrorAction SilentlyContinue
}

Describe 'Invoke-KustomerSync with a SQLite source' {
    BeforeAll {
        $db = New-SqliteSource -Name 'people' -Rows 20 -Prefix 'sq'
        $script:Basic = New-Definition 'basic' @"
@{
    Name = 'sqlite-people'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, full_name, email from people' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    SyncKey = 'ExternalId'
    Mapping = @{ name = 'full_name' }
    State = @{ Path = 'basic.state.db' }
    ReportKeysLeft = `$true
}
"@
    }

    It 'runs, keeps state beside the definition, and returns only the summary' {
        Push-Location ([System.IO.Path]::GetTempPath())
        try { $out = @(Invoke-KustomerSync -Path $script:Basic -SummaryVariable summary 6>$null) } finally { Pop-Location }
        $out.Count | Should -Be 0
        $summary | Should -BeOfType KustomerSync.UpsertSummary
        $summary.Created | Should -Be 20
        $summary.Sync | Should -Be 'sqlite-people'
        $LASTEXITCODE | Should -Be 0
        Join-Path $script:Work 'basic.state.db' | Should -Exist
    }

    It 'a second run is all Unchanged with zero requests, and -PassThru gives one result per row' {
        $out = @(Invoke-KustomerSync -Path $script:Basic -PassThru -SummaryVariable summary 6>$null)
        $summary.Unchanged | Should -Be 20
        $summary.Requests | Should -Be 0
        @($out | Where-Object { $_ -is [KustomerSync.UpsertResult] }).Count | Should -Be 20
    }

    It '-WhatIf plans without writing and -FullSync writes every row again' {
        Invoke-KustomerSync -Path $script:Basic -FullSync -WhatIf -SummaryVariable plan 6>$null
        $plan.WhatIf | Should -BeTrue
        $plan.WouldUpdate | Should -Be 20
        Invoke-KustomerSync -Path $script:Basic -FullSync -SummaryVariable full 6>$null
        $full.Updated | Should -Be 20
        Invoke-KustomerSync -Path $script:Basic -SummaryVariable again 6>$null
        $again.Unchanged | Should -Be 20
    }

    It 'records every run in the history' {
        $runs = @(Get-KustomerSyncRun -StatePath (Join-Path $script:Work 'basic.state.db') -Sync 'sqlite-people')
        $runs.Count | Should -Be 5
        ($runs | Where-Object WhatIf).Count | Should -Be 1
        $runs[-1].Status | Should -Be 'Succeeded'
    }

    It 'reports every mistake at once, naming the settings, before connecting to anything' {
        $bad = New-Definition 'bad' @'
@{
    Name = 'bad'
    Source = @{ Provider = 'Postgress'; ConnectionString = 'Host=nowhere.invalid'; Qeury = 'select 1' }
    Destination = @{ Organization = 'acme'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_NOT_SET' }
    Object = 'Customer'
    State = @{ Path = 'bad.state.db' }
}
'@
        $failure = { Invoke-KustomerSync -Path $bad } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidDefinition*'
        $message = $failure.Exception.Message
        $message | Should -Match "Source\.Provider: 'Postgress' is not a known provider.*did you mean 'Postgres'"
        $message | Should -Match "Source\.Qeury: is not a setting of Source \(did you mean 'Query'\?\)"
        $message | Should -Match 'Destination\.ApiKeyEnvironmentVariable: the environment variable KS_SYNC_TEST_NOT_SET is not set'
        $LASTEXITCODE | Should -Be 1
        Join-Path $script:Work 'bad.state.db' | Should -Not -Exist
    }

    It 'refuses code in the definition outside Mapping, and never runs it' {
        $marker = Join-Path $script:Work 'ran.txt'
        $code = New-Definition 'code' @"
@{
    Name = (New-Item -Path '$marker')
    Source = @{ Provider = 'Sqlite'; ConnectionString = `$env:HOME; Query = 'select 1' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'code.state.db' }
}
"@
        $failure = { Invoke-KustomerSync -Path $code } | Should -Throw -PassThru
        $failure.Exception.Message | Should -Match 'Name: line 2: .* is not a constant value'
        $failure.Exception.Message | Should -Match 'Source\.ConnectionString: line 3:.*ConnectionStringEnvironmentVariable'
        $marker | Should -Not -Exist
    }

    It 'computes Mapping values with scriptblocks' {
        $db = New-SqliteSource -Name 'computed' -Rows 3 -Prefix 'cp'
        $def = New-Definition 'computed' @"
@{
    Name = 'computed'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id, full_name, email from people' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    Mapping = @{ externalId = 'id'; name = { `$_.full_name.ToUpperInvariant() } }
    State = @{ Path = 'computed.state.db' }
}
"@
        $results = Invoke-KustomerSync -Path $def -PassThru -WarningAction SilentlyContinue | Where-Object { $_ -is [KustomerSync.UpsertResult] }
        $results.Count | Should -Be 3
        $state = Invoke-RestMethod "$($script:Emulator.BaseUri)/_emulator/state"
        ($state.customers.items.attributes | Where-Object externalId -EQ 'cp-1').name | Should -Be 'PERSON 1'
    }
}

Describe 'State.Watermark = AdvanceAndRetry (issue 13, item 10)' {
    BeforeAll {
        # Two customers own the emails two source rows bring, so Kustomer refuses to create those rows (duplicate).
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KS_SYNC_TEST_KEY -Name watermark
        @([pscustomobject]@{ externalId = 'owner-1'; email = 'taken.1@example.com' }, [pscustomobject]@{ externalId = 'owner-2'; email = 'taken.2@example.com' }) |
            Invoke-KustomerUpsert -Object Customer -Destination watermark | Out-Null
        $script:WmDb = Join-Path $script:Work 'watermark.db'
        Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:WmDb" -Query ("create table people (id text, full_name text, email text, updated_at text); insert into people values " +
            "('wm-1', 'One', 'wm.1@example.com', '2026-01-01 00:00:00'), ('wm-2', 'Two', 'wm.2@example.com', '2026-01-01 00:00:00'), " +
            "('wm-bad-1', 'Bad One', 'taken.1@example.com', '2026-01-01 00:00:00'), ('wm-bad-2', 'Bad Two', 'taken.2@example.com', '2026-01-01 00:00:00')") | Out-Null
        $script:WmDef = New-Definition 'watermark' @"
@{
    Name = 'watermark'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$script:WmDb'
        Query = 'select id as externalId, full_name, email from people where datetime(updated_at) > datetime(@since)'; Parameters = @{ since = '`$LastRunStart' } }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    Mapping = @{ name = 'full_name' }
    State = @{ Path = 'watermark.state.db'; Watermark = 'AdvanceAndRetry'; RetryRuns = 2 }
}
"@
        $script:WmState = Join-Path $script:Work 'watermark.state.db'
        function script:Invoke-WatermarkRun {
            $verbose = @(Invoke-KustomerSync -Path $script:WmDef -PassThru -Verbose -SummaryVariable s -WarningVariable w -WarningAction SilentlyContinue -ErrorAction SilentlyContinue 4>&1 6>$null |
                    Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
            [pscustomobject]@{ Summary = $s; Warnings = @($w | ForEach-Object Message); Verbose = $verbose; ExitCode = $LASTEXITCODE
                Run = Get-KustomerSyncRun -StatePath $script:WmState -Sync watermark -Last 1 }
        }
        function script:Get-Since([string[]] $Verbose) {
            $line = $Verbose | Where-Object { $_ -like '$LastRunStart = *' }
            [datetime]::Parse(($line -replace '^\$LastRunStart = (\S+) .*$', '$1'), [cultureinfo]::InvariantCulture, 'AdjustToUniversal')
        }
    }
    AfterAll { Disconnect-KustomerDestination -Name watermark }

    It 'moves $LastRunStart on past rejected rows, sends the failed ones again from the state store, and gives up after RetryRuns' {
        $one = Invoke-WatermarkRun
        $one.ExitCode | Should -Be 2
        $one.Summary.Created | Should -Be 2
        $one.Summary.Failed | Should -Be 2
        $one.Summary.Total | Should -Be 4

        # The source selects nothing new, the two failed rows come from the state store.
        $two = Invoke-WatermarkRun
        (Get-Since $two.Verbose) | Should -Be $one.Run.Started
        $two.Verbose | Should -Contain 'Sending again 2 rows that failed at Kustomer in earlier runs (kept in the state store).'
        $two.Summary.Total | Should -Be 2
        $two.Summary.Failed | Should -Be 2
        $two.ExitCode | Should -Be 2

        # The source delivers a fixed wm-bad-2: its row wins (one result for it), wm-bad-1 is sent a second time and given up.
        Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$script:WmDb" -Query "update people set email = 'wm.bad.2@example.com', updated_at = '2099-01-01 00:00:00' where id = 'wm-bad-2'" | Out-Null
        $three = Invoke-WatermarkRun
        (Get-Since $three.Verbose) | Should -Be $two.Run.Started
        $three.Summary.Total | Should -Be 2
        $three.Summary.Created | Should -Be 1
        $three.Summary.Failed | Should -Be 1
        $given = @($three.Warnings | Where-Object { $_ -like '*given up*' })
        $given.Count | Should -Be 1
        $given[0] | Should -BeLike "1 rows failed at Kustomer again after being sent again in 2 runs and are given up: wm-bad-1.*"
        $outcome = Get-KustomerSyncRun -StatePath $script:WmState -Sync watermark -RunId $three.Run.RunId -Status Failed
        $outcome.Key | Should -Be 'wm-bad-1'
        $outcome.Message | Should -BeLike '*Given up after being sent again in 2 runs*'

        # Nothing is sent from the store any more; the source's fixed row (dated in the future) comes out Unchanged.
        $four = Invoke-WatermarkRun
        (Get-Since $four.Verbose) | Should -Be $three.Run.Started
        $four.Verbose | Should -Not -Contain 'Sending again 1 rows that failed at Kustomer in earlier runs (kept in the state store).'
        $four.Summary.Total | Should -Be 1
        $four.Summary.Unchanged | Should -Be 1
        $four.ExitCode | Should -Be 0
        $stored = @((Invoke-RestMethod "$($script:Emulator.BaseUri)/_emulator/state").customers.items.attributes | Where-Object { $_.externalId -like 'wm-*' })
        @($stored.externalId | Sort-Object) | Should -Be @('wm-1', 'wm-2', 'wm-bad-2')
    }
}

Describe 'Exit codes through pwsh -File' {
    BeforeAll {
        $good = New-SqliteSource -Name 'exit-good' -Rows 3 -Prefix 'ex'
        $script:GoodDef = New-Definition 'exit-good' @"
@{
    Name = 'exit-good'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$good'; Query = 'select id as externalId, full_name as name, email from people' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'exit-good.state.db' }
}
"@
        # Two rows with the same key: the second is Invalid (KustomerSync.DuplicateKey), the run completes.
        $script:PartialDef = New-Definition 'exit-partial' @"
@{
    Name = 'exit-partial'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$good'; Query = "select id as externalId, full_name as name, email from people union all select 'ex-1', 'Again', 'again@example.com'" }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'exit-partial.state.db' }
}
"@
        $script:FailDef = New-Definition 'exit-fail' @"
@{
    Name = 'exit-fail'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$(Join-Path $script:Work 'missing-folder/none.db');Mode=ReadOnly'; Query = 'select 1 as externalId' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'exit-fail.state.db' }
}
"@
        $script:Wrapper = (Resolve-Path (Join-Path $script:Examples 'Invoke-ScheduledSync.ps1')).Path
        $script:ExitCodeScript = Join-Path $script:Work 'exitcode.ps1'
        'param($Path) Import-Module KustomerSync; Invoke-KustomerSync -Path $Path -ExitCode' | Set-Content $script:ExitCodeScript
    }

    It 'exits 0 when every row succeeded (wrapper script)' {
        $run = Invoke-Child $script:Wrapper @('-Path', $script:GoodDef)
        $run.Output | Should -Match 'Created\s*:\s*3'
        $run.ExitCode | Should -Be 0
    }

    It 'exits 2 when some rows failed (wrapper script and -ExitCode)' {
        $run = Invoke-Child $script:Wrapper @('-Path', $script:PartialDef)
        $run.Output | Should -Match 'already used by row 1'
        $run.ExitCode | Should -Be 2
        (Invoke-Child $script:ExitCodeScript @('-Path', $script:PartialDef)).ExitCode | Should -Be 2
    }

    It 'exits 1 when the run failed: source unreachable, bad definition' {
        $run = Invoke-Child $script:Wrapper @('-Path', $script:FailDef)
        $run.ExitCode | Should -Be 1
        $run.Output | Should -Match 'KustomerSync.Source'
        (Invoke-Child $script:ExitCodeScript @('-Path', $script:FailDef)).ExitCode | Should -Be 1
        (Invoke-Child $script:Wrapper @('-Path', (Join-Path $script:Work 'no-such.sync.psd1'))).ExitCode | Should -Be 1
        $runs = @(Get-KustomerSyncRun -StatePath (Join-Path $script:Work 'exit-fail.state.db') -Sync 'exit-fail')
        $runs[-1].Status | Should -Be 'Failed'
        $runs[-1].Message | Should -Not -BeNullOrEmpty
    }

    It 'shows -Debug lines in a non-interactive run without asking anything' {
        $debug = Join-Path $script:Work 'debug.ps1'
        'param($Path) Import-Module KustomerSync; Invoke-KustomerSync -Path $Path -Debug -ExitCode 5>&1' | Set-Content $debug
        $run = Invoke-Child $debug @('-Path', $script:GoodDef)
        $run.Output | Should -Not -Match 'NonInteractive mode|Continue with this operation'
        $run.Output | Should -Match 'GET /v1/metadata/customer -> 200'
        $run.ExitCode | Should -Be 0
    }

    It 'sets $LASTEXITCODE in the calling session' {
        Invoke-KustomerSync -Path $script:PartialDef -ErrorAction SilentlyContinue | Out-Null
        $LASTEXITCODE | Should -Be 2
        Invoke-KustomerSync -Path $script:GoodDef | Out-Null
        $LASTEXITCODE | Should -Be 0
    }

    It 'never prints the API key, even verbose, with -PassThru, or when Kustomer refuses a key' {
        $verbose = Join-Path $script:Work 'verbose.ps1'
        'param($Path) Import-Module KustomerSync; Invoke-KustomerSync -Path $Path -FullSync -PassThru -Verbose -ExitCode | Format-List * | Out-String -Width 300' | Set-Content $verbose
        $run = Invoke-Child $verbose @('-Path', $script:GoodDef)
        $run.ExitCode | Should -Be 0
        $run.Output | Should -Match 'VERBOSE'
        $run.Output | Should -Not -Match ([regex]::Escape($script:SecretKey))

        $wrongKey = 'ks-wrong-' + [guid]::NewGuid().ToString('N')
        $env:KS_SYNC_TEST_KEY = $wrongKey
        try {
            $refused = Invoke-Child $verbose @('-Path', $script:GoodDef)
            $refused.ExitCode | Should -Be 1
            $refused.Output | Should -Match 'AuthenticationFailed|401'
            $refused.Output | Should -Not -Match ([regex]::Escape($wrongKey))
        } finally {
            $env:KS_SYNC_TEST_KEY = $script:SecretKey
        }
    }
}

Describe 'Invoke-KustomerSync against the real Postgres' -Tag Postgres -Skip:(-not $HavePostgres) {
    BeforeAll {
        if (-not $script:Pg) { throw 'CI=true but KUSTOMERSYNC_TEST_POSTGRES is not set: start Postgres with tests/servers/TestServers.psm1.' }
        $script:Table = 'ks_sync_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $script:Schema = 'ks_state_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        Invoke-Psql @"
create table $script:Table (id text primary key, name text, email text, updated_at timestamptz not null default now());
insert into $script:Table (id, name, email, updated_at)
  select 'pg-' || i, 'Customer ' || i, 'pg' || i || '@example.com', now() - interval '1 day' from generate_series(1, 200) i;
"@ | Out-Null
        $script:PgDef = New-Definition 'pg' @"
@{
    Name = 'pg-customers'
    Source = @{
        Provider = 'Postgres'
        ConnectionStringEnvironmentVariable = 'KS_SYNC_TEST_PG'
        Query = 'select id as "externalId", name, email from $script:Table order by id'
    }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    SyncKey = 'ExternalId'
    ThrottleLimit = 8
    State = @{ Path = 'pg.state.db' }
}
"@
    }

    AfterAll {
        if ($script:Pg) { Invoke-Psql "drop table if exists $script:Table; drop schema if exists $script:Schema cascade" | Out-Null }
    }

    It 'first run creates every row' {
        Invoke-KustomerSync -Path $script:PgDef -SummaryVariable summary 6>$null
        $summary.Created | Should -Be 200
        $summary.Total | Should -Be 200
    }

    It 'second run is all Unchanged with zero requests' {
        Invoke-KustomerSync -Path $script:PgDef -SummaryVariable summary 6>$null
        $summary.Unchanged | Should -Be 200
        $summary.Requests | Should -Be 0
    }

    It 'after 1% changed, only those rows are written' {
        $lookups = Get-Lookups
        Invoke-Psql "update $script:Table set name = name || ' (moved)', updated_at = now() where id in ('pg-7', 'pg-150')" | Out-Null
        $results = Invoke-KustomerSync -Path $script:PgDef -PassThru -SummaryVariable summary 6>$null
        $summary.Updated | Should -Be 2
        $summary.Unchanged | Should -Be 198
        $summary.Created | Should -Be 0
        @($results | Where-Object Status -EQ 'Updated' | ForEach-Object Key | Sort-Object) | Should -Be @('pg-150', 'pg-7')
        # No lookup and no read by id: one search shows both records at the revision the state stamped (a customer update
        # must carry its current company, and the stamp remembers it), then one write a row.
        $summary.Requests | Should -Be 3
        Get-Lookups | Should -Be $lookups
    }

    It 'gives $LastRunStart the start of the last successful run (the first-run default before that)' {
        $def = New-Definition 'pg-since' @"
@{
    Name = 'pg-since'
    Source = @{
        Provider = 'Postgres'
        ConnectionStringEnvironmentVariable = 'KS_SYNC_TEST_PG'
        Query = 'select id as "externalId", name, email from $script:Table where updated_at > @since order by id'
        Parameters = @{ since = '`$LastRunStart' }
        FirstRunStart = '2000-01-01'
    }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'pg-since.state.db' }
}
"@
        $state = Join-Path $script:Work 'pg-since.state.db'
        $first = Invoke-KustomerSync -Path $def -Verbose -SummaryVariable firstSummary 4>&1 6>$null
        ($first | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain '$LastRunStart = 2000-01-01T00:00:00.0000000Z (first run).'
        $firstSummary.Total | Should -Be 200

        $second = Invoke-KustomerSync -Path $def -Verbose -SummaryVariable secondSummary 4>&1 6>$null
        $lastStart = (Get-KustomerSyncRun -StatePath $state -Sync pg-since -Last 2)[0].Started
        $expected = '$LastRunStart = ' + $lastStart.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss')
        ($second | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Where-Object { $_ -like "$expected*" } | Should -Not -BeNullOrEmpty
        $secondSummary.Total | Should -Be 0

        Invoke-Psql "update $script:Table set name = name || '!', updated_at = now() where id in ('pg-1', 'pg-2', 'pg-3')" | Out-Null
        Invoke-KustomerSync -Path $def -SummaryVariable third 6>$null
        $third.Total | Should -Be 3
        $third.Updated | Should -Be 3
    }

    It 'pushes the diff down to Postgres: unchanged rows never leave the database' {
        $def = New-Definition 'pg-push' @"
@{
    Name = 'pg-push'
    Source = @{ Provider = 'Postgres'; ConnectionStringEnvironmentVariable = 'KS_SYNC_TEST_PG'; Query = 'select id as "externalId", name, email from $script:Table' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Provider = 'Postgres'; ConnectionStringEnvironmentVariable = 'KS_SYNC_TEST_PG'; Schema = '$script:Schema' }
    PushDown = `$true
}
"@
        Invoke-KustomerSync -Path $def -SummaryVariable first 6>$null
        $first.Total | Should -Be 200
        ($first.Updated + $first.Unchanged + $first.Created) | Should -Be 200
        Invoke-KustomerSync -Path $def -SummaryVariable second 6>$null
        $second.Total | Should -Be 0
        $second.Requests | Should -Be 0
        Invoke-Psql "update $script:Table set email = 'changed.' || email where id in ('pg-10', 'pg-11')" | Out-Null
        $lookups = Get-Lookups
        Invoke-KustomerSync -Path $def -SummaryVariable third 6>$null
        $third.Total | Should -Be 2
        $third.Updated | Should -Be 2
        $third.Requests | Should -Be 3 -Because 'the key state, record stamp included, comes with each row, so known records are updated without a lookup or a read by id (one search for both shows them as stamped, which keeps the company link; one write a row)'
        Get-Lookups | Should -Be $lookups
        Invoke-KustomerSync -Path $def -SummaryVariable fourth 6>$null
        $fourth.Total | Should -Be 0
    }

    It 'a second concurrent run of the same sync refuses with KustomerSync.StateLocked' {
        # The first run's query waits until the test opens a gate (a row in a table), so the second run surely
        # starts while the first holds the lease, however busy the machine.
        $gate = 'ks_gate_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        Invoke-Psql (@'
create table GATE (opened boolean);
create function GATE_wait() returns boolean language plpgsql as $$
declare giving_up timestamptz := clock_timestamp() + interval '10 minutes';
begin
  while not exists (select 1 from GATE) and clock_timestamp() < giving_up loop perform pg_sleep(0.05); end loop;
  return true;
end $$;
'@.Replace('GATE', $gate)) | Out-Null
        $def = New-Definition 'pg-slow' @"
@{
    Name = 'pg-slow'
    Source = @{ Provider = 'Postgres'; ConnectionStringEnvironmentVariable = 'KS_SYNC_TEST_PG'; Query = 'select id as "externalId", name, email from $script:Table where id = ''pg-1'' and ${gate}_wait()' }
    Destination = @{ BaseUri = '{{BASE}}'; ApiKeyEnvironmentVariable = 'KS_SYNC_TEST_KEY' }
    Object = 'Customer'
    State = @{ Path = 'pg-slow.state.db' }
}
"@
        $state = Join-Path $script:Work 'pg-slow.state.db'
        $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
        foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', (Resolve-Path (Join-Path $script:Examples 'Invoke-ScheduledSync.ps1')).Path, '-Path', $def)) { $psi.ArgumentList.Add($a) }
        $psi.Environment['PSModulePath'] = $script:ModuleParent + [System.IO.Path]::PathSeparator + $env:PSModulePath
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $first = [System.Diagnostics.Process]::Start($psi)
        $null = $first.StandardOutput.ReadToEndAsync(); $stderr = $first.StandardError.ReadToEndAsync()
        try {
            function script:Test-Running {
                # The first run creates the file before its tables: until then the store is unreadable, which is fine here.
                try { [bool]@(Get-KustomerSyncRun -StatePath $state -Sync pg-slow -ErrorAction Stop | Where-Object Status -EQ 'Running').Count } catch { $false }
            }
            # Waits for the first run to take the lease; the bound only keeps a broken run from hanging the suite.
            $giveUp = [DateTime]::UtcNow.AddMinutes(5)
            while (-not ((Test-Path $state) -and (Test-Running))) {
                if ([DateTime]::UtcNow -gt $giveUp) { throw 'The first run did not start within 5 minutes.' }
                # Between looks, wait on the first run itself: its end (a failure here) ends the wait at once.
                if ($first.WaitForExit(200)) { throw "The first run ended before it started its query: $($stderr.GetAwaiter().GetResult())" }
            }
            $failure = { Invoke-KustomerSync -Path $def } | Should -Throw -PassThru
            $failure.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.StateLocked*'
            $failure.Exception.Message | Should -Match 'pg-slow'
            $LASTEXITCODE | Should -Be 1
            Invoke-Psql "insert into $gate values (true)" | Out-Null
            $first.WaitForExit()
            $first.ExitCode | Should -Be 0
        } finally {
            Invoke-Psql "insert into $gate values (true)" | Out-Null
            if (-not $first.HasExited) { $first.Kill($true) }
            Invoke-Psql "drop function if exists ${gate}_wait(); drop table if exists $gate" | Out-Null
        }
    }
}
