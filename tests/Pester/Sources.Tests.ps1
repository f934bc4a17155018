# Get-SourceRows from the built module against the real Postgres and MariaDB that TestServers.psm1 starts:
# $null for NULL, UTC dates, exact decimals, bound parameters, stable ErrorIds with fitting categories, and no secret
# in any stream. Without a server its tests are skipped, except under CI=true, where that is a failure.

BeforeDiscovery {
    $script:HavePostgres = [bool]$env:KUSTOMERSYNC_TEST_POSTGRES
    $script:HaveMySql = [bool]$env:KUSTOMERSYNC_TEST_MYSQL
}

BeforeAll {
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Pg = $env:KUSTOMERSYNC_TEST_POSTGRES
    $script:My = $env:KUSTOMERSYNC_TEST_MYSQL

    function script:Free-Port {
        $listener = [System.Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop(); $port
    }

    # Runs a script block with every stream captured (*>&1) and returns all of it as text, errors included.
    function script:Capture([scriptblock] $Block) {
        $all = & { try { & $Block } catch { $_ } } *>&1 -Verbose 4>&1
        ($all | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { "$_ $($_.FullyQualifiedErrorId) $($_.Exception) $($_.ErrorDetails)" } else { $_ | Out-String } }) -join "`n"
    }
}

Describe 'Test servers' {
    It 'has Postgres and MariaDB when CI=true' {
        if ($env:CI -ne 'true') { Set-ItResult -Skipped -Because 'the check that both test servers ran is for CI=true'; return }
        $env:KUSTOMERSYNC_TEST_POSTGRES | Should -Not -BeNullOrEmpty -Because 'CI=true must run the Postgres source tests'
        $env:KUSTOMERSYNC_TEST_MYSQL | Should -Not -BeNullOrEmpty -Because 'CI=true must run the MariaDB source tests'
    }
}

Describe 'Get-SourceRows -Provider Postgres (real server)' -Tag Postgres -Skip:(-not $HavePostgres) {
    It 'streams typed rows: $null for NULL, UTC dates, exact decimals, JSON and arrays as strings' {
        $rows = @(Get-SourceRows -Provider Postgres -ConnectionString $Pg -Query @'
select g as id, null::text as missing, timestamptz '2024-03-01 10:20:30+02' as seen, timestamp '2024-03-01 10:20:30' as naive,
       12345678901234567.1234567891::numeric(38,10) as amount, '{"a": 1}'::jsonb as doc, array[1,2] as nums, 'Zoë 東京 🚀' as name, g as id
from generate_series(1, 3) g
'@)
        $rows.Count | Should -Be 3
        $rows[0].missing | Should -BeNullOrEmpty
        $null -eq $rows[0].missing | Should -BeTrue
        $rows[0].seen.Kind | Should -Be 'Utc'
        $rows[0].seen | Should -Be ([datetime]::new(2024, 3, 1, 8, 20, 30, [DateTimeKind]::Utc))
        $rows[0].naive.Kind | Should -Be 'Utc'
        $rows[0].amount | Should -BeOfType [decimal]
        $rows[0].amount | Should -Be 12345678901234567.1234567891d
        $rows[0].doc | Should -Be '{"a": 1}'
        $rows[0].nums | Should -Be '[1,2]'
        $rows[0].name | Should -Be 'Zoë 東京 🚀'
        $rows[0].id_2 | Should -Be 1
    }

    It 'binds -Parameters as real parameters' {
        $row = Get-SourceRows Postgres -ConnectionString $Pg -Query 'select @name::text as name, @since::timestamptz as since' -Parameters @{ name = "'; drop table x; --"; since = [datetime]::new(2024, 1, 1, 0, 0, 0, [DateTimeKind]::Utc) }
        $row.name | Should -Be "'; drop table x; --"
        $row.since | Should -Be ([datetime]::new(2024, 1, 1, 0, 0, 0, [DateTimeKind]::Utc))
    }

    It 'stops early without reading everything (Select-Object -First)' {
        # nextval runs as the server makes each row, so the sequence tells how far the query got.
        $sequence = 'ks_first_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Get-SourceRows Postgres -ConnectionString $Pg -Query "create sequence $sequence"
        try {
            $first = Get-SourceRows Postgres -ConnectionString $Pg -Query "select nextval('$sequence') as n from generate_series(1, 5000000)" | Select-Object -First 2
            $first.Count | Should -Be 2
            (Get-SourceRows Postgres -ConnectionString $Pg -Query "select last_value from $sequence").last_value | Should -BeLessThan 5000000
        } finally {
            $null = Get-SourceRows Postgres -ConnectionString $Pg -Query "drop sequence if exists $sequence"
        }
    }

    It 'names a missing parameter with KustomerSync.SourceMissingParameter' {
        { Get-SourceRows Postgres -ConnectionString $Pg -Query 'select 1 where now() > @since' } |
            Should -Throw -ErrorId 'KustomerSync.SourceMissingParameter,KustomerSync.Cmdlets.GetSourceRowsCommand' -ExpectedMessage '*@since*'
    }

    It 'reports a syntax error with the server message' {
        $err = { Get-SourceRows Postgres -ConnectionString $Pg -Query 'selec 1' } | Should -Throw -PassThru -ErrorId 'KustomerSync.SourceQueryFailed,*'
        $err.Exception.Message | Should -BeLike '*syntax error*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
    }

    It 'reports an unreachable server with host:port as a ConnectionError' {
        $port = Free-Port
        $err = { Get-SourceRows Postgres -ConnectionString "Host=127.0.0.1;Port=$port;Username=u;Timeout=3" -Query 'select 1' } | Should -Throw -PassThru -ErrorId 'KustomerSync.SourceConnectionFailed,*'
        $err.Exception.Message | Should -BeLike "*127.0.0.1:$port*"
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'reports a wrong password as an AuthenticationError, and the password appears in no stream' {
        $secret = 'Pester-Pg-Secret-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Get-SourceRows Postgres -ConnectionString $Pg -Query @"
do `$`$ begin
  if not exists (select from pg_roles where rolname = 'ksync_pw') then create role ksync_pw login password 'Pg-Secret-7f3a9'; end if;
end `$`$; select 1 as done
"@
        $user = $Pg -replace 'Username=postgres', 'Username=ksync_pw'
        $err = { Get-SourceRows Postgres -ConnectionString "$user;Password=$secret" -Query 'select 1' } | Should -Throw -PassThru -ErrorId 'KustomerSync.SourceAuthenticationFailed,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $credential = [pscredential]::new('ksync_pw', (ConvertTo-SecureString $secret -AsPlainText -Force))
        $text = Capture { Get-SourceRows Postgres -ConnectionString "$user;Password=$secret" -Query 'select 1' -Verbose }
        $text += Capture { Get-SourceRows Postgres -ConnectionString ($Pg -replace 'Username=postgres;?', '') -Credential $credential -Query 'select 1' -Verbose }
        $text | Should -BeLike '*KustomerSync*'
        $text | Should -Not -BeLike "*$secret*"
    }
}

Describe 'Get-SourceRows -Provider MySql (real MariaDB)' -Tag MariaDB -Skip:(-not $HaveMySql) {
    It 'streams typed rows: $null for NULL, UTC dates, exact decimals, JSON as string' {
        $row = Get-SourceRows -Provider MariaDB -ConnectionString $My -Query "select null as missing, cast('2024-03-01 10:20:30' as datetime) as seen, cast(12345678901234567.1234567891 as decimal(38,10)) as amount, json_object('a', 1) as doc, @name as name" -Parameters @{ name = 'Zoë 東京 🚀' }
        $null -eq $row.missing | Should -BeTrue
        $row.seen.Kind | Should -Be 'Utc'
        $row.seen | Should -Be ([datetime]::new(2024, 3, 1, 10, 20, 30, [DateTimeKind]::Utc))
        $row.amount | Should -BeOfType [decimal]
        $row.amount | Should -Be 12345678901234567.1234567891d
        $row.doc | Should -BeOfType [string]
        $row.name | Should -Be 'Zoë 東京 🚀'
    }

    It 'gives stable ErrorIds for a missing parameter and a syntax error' {
        { Get-SourceRows MySql -ConnectionString $My -Query 'select @since' } | Should -Throw -ErrorId 'KustomerSync.SourceMissingParameter,*' -ExpectedMessage '*@since*'
        { Get-SourceRows MySql -ConnectionString $My -Query 'selec 1' } | Should -Throw -ErrorId 'KustomerSync.SourceQueryFailed,*' -ExpectedMessage '*SQL syntax*'
    }

    It 'reports a wrong password as an AuthenticationError, and the password appears in no stream' {
        $secret = 'Pester-My-Secret-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Get-SourceRows MySql -ConnectionString $My -Query "create user if not exists 'ksync_pw'@'127.0.0.1' identified by 'My-Secret-4c1d8'; select 1"
        $user = $My -replace 'User ID=root', 'User ID=ksync_pw'
        $err = { Get-SourceRows MySql -ConnectionString "$user;Password=$secret" -Query 'select 1' } | Should -Throw -PassThru -ErrorId 'KustomerSync.SourceAuthenticationFailed,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $text = Capture { Get-SourceRows MySql -ConnectionString "$user;Password=$secret" -Query 'select 1' -Verbose }
        $text | Should -Not -BeLike "*$secret*"
    }
}

Describe 'Get-SourceRows without a server' {
    It 'lists the known providers for an unknown one' {
        $err = { Get-SourceRows -Provider Oracle -ConnectionString 'a=b' -Query 'select 1' } | Should -Throw -PassThru -ErrorId 'KustomerSync.SourceUnknownProvider,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*Postgres*Snowflake*GoogleSheets*'
    }

    It 'refuses a plain-http REST endpoint that is not loopback, and never shows the token' {
        $text = Capture { Get-SourceRows -Provider Databricks -ConnectionString 'Host=http://dbc.example.com;WarehouseId=w;Token=dapi-Pester-Secret-1' -Query 'select 1' -Verbose }
        $text | Should -BeLike '*KustomerSync.SourceInsecureEndpoint*'
        $text | Should -Not -BeLike '*dapi-Pester-Secret-1*'
    }

    It 'reports an unreachable SQL Server with host and port (the real SqlClient loads from the module)' {
        $port = Free-Port
        $credential = [pscredential]::new('sa', (ConvertTo-SecureString 'Sql-Pester-Secret-2' -AsPlainText -Force))
        $text = Capture { Get-SourceRows -Provider SqlServer -ConnectionString "Server=tcp:127.0.0.1,$port;Connect Timeout=3;Encrypt=false" -Credential $credential -Query 'select 1' -Verbose }
        $text | Should -BeLike '*KustomerSync.SourceConnectionFailed*'
        $text | Should -BeLike "*127.0.0.1,$port*"
        $text | Should -Not -BeLike '*Sql-Pester-Secret-2*'
    }
}
