# What a new admin meets first (issue 13): mapping and key mistakes stop before any request, blank cells are no
# value, an outage is one failure, the output reads at 100 columns, and the run says what it did.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Http = [System.Net.Http.HttpClient]::new()
    function script:Get-EmulatorJson([string] $BaseUri, [string] $Path) {
        $script:Http.GetStringAsync("$BaseUri$Path").GetAwaiter().GetResult() | ConvertFrom-Json -Depth 20
    }
    function script:Reset-Emulator([string] $BaseUri) {
        $null = $script:Http.PostAsync("$BaseUri/_emulator/reset", $null).GetAwaiter().GetResult()
    }
    function script:Get-StoredCustomer([string] $BaseUri, [string] $ExternalId) {
        (Get-EmulatorJson $BaseUri '/_emulator/state').customers.items | Where-Object { $_.attributes.externalId -eq $ExternalId }
    }
    function script:Get-Writes([string] $BaseUri) {
        $routes = (Get-EmulatorJson $BaseUri '/_emulator/stats').byRoute
        ($routes.PSObject.Properties | Where-Object { $_.Name -match '^(POST|PUT|PATCH) /v1' } | Measure-Object -Property Value -Sum).Sum
    }
    $env:KUSTOMERSYNC_EXPERIENCE_KEY = 'emulator-key'
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0'
    Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_EXPERIENCE_KEY -Name experience
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
    $script:Http.Dispose()
}

Describe 'A mapping that does not fit the input (issue 13, item 1)' {
    BeforeEach {
        Reset-Emulator $script:Emulator.BaseUri
        $null = [pscustomobject]@{ externalId = 'crm-0001'; name = 'Ada'; tierStr = 'gold' } |
            Invoke-KustomerUpsert -Object Customer -Destination experience
    }

    It 'stops with KustomerSync.InvalidMapping before any write and suggests the closest column' {
        $before = Get-Writes $script:Emulator.BaseUri
        $caught = $null
        try {
            [pscustomobject]@{ externalId = 'crm-0001'; Plan = 'x' } |
                Invoke-KustomerUpsert -Object Customer -Destination experience -Mapping @{ 'custom.tierStr' = 'plan_code' }
        } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidMapping*'
        $caught.Exception.Message | Should -BeLike "*'plan_code'*did you mean 'Plan'*"
        (Get-StoredCustomer $script:Emulator.BaseUri 'crm-0001').attributes.custom.tierStr | Should -Be 'gold'
        Get-Writes $script:Emulator.BaseUri | Should -Be $before
    }

    It 'reports every mapping mistake at once' {
        $caught = $null
        try {
            [pscustomobject]@{ externalId = 'crm-0001'; Plan = 'x'; full_name = 'Ada L' } |
                Invoke-KustomerUpsert -Object Customer -Destination experience -Mapping @{ 'custom.tierStr' = 'plan_code'; 'name' = 'fullname' }
        } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidMapping*'
        $caught.Exception.Message | Should -BeLike "*'plan_code'*"
        $caught.Exception.Message | Should -BeLike "*'fullname'*did you mean 'full_name'*"
    }

    It 'makes a later row that lacks a mapped column Invalid instead of clearing the field' {
        $rows = @(
            [pscustomobject]@{ externalId = 'crm-0002'; plan_code = 'silver' }
            [pscustomobject]@{ externalId = 'crm-0001'; name = 'Ada' }
        )
        $results = @($rows | Invoke-KustomerUpsert -Object Customer -Destination experience -Mapping @{ 'custom.tierStr' = 'plan_code' } -ErrorAction SilentlyContinue |
                Where-Object { $_ -is [KustomerSync.UpsertResult] })
        $results.Count | Should -Be 2
        ($results | Where-Object Row -EQ 1).Status | Should -Be 'Created'
        $second = $results | Where-Object Row -EQ 2
        $second.Status | Should -Be 'Invalid'
        $second.ErrorId | Should -Be 'KustomerSync.MissingColumn'
        $second.Field | Should -Be 'plan_code'
        (Get-StoredCustomer $script:Emulator.BaseUri 'crm-0001').attributes.custom.tierStr | Should -Be 'gold'
    }
}

Describe 'A missing key column (issue 13, item 4)' {
    BeforeEach { Reset-Emulator $script:Emulator.BaseUri }

    It 'stops with one error before any request and names the closest column' {
        $csv = "emial,name`nada@example.com,Ada`nbob@example.com,Bob`n" | ConvertFrom-Csv
        $errors = @()
        $caught = $null
        try {
            $csv | Invoke-KustomerUpsert -Object Customer -SyncKey Email -Destination experience -ErrorVariable +errors -ErrorAction SilentlyContinue
        } catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.InvalidMapping*'
        $caught.Exception.Message | Should -BeLike "*sync key email*did you mean 'emial'*"
        $errors.Count | Should -Be 1 -Because 'the one terminating error is all; no row was rejected one by one'
        (Get-EmulatorJson $script:Emulator.BaseUri '/_emulator/state').customers.count | Should -Be 0
    }
}

Describe 'Blank CSV cells (issue 13, item 2)' {
    BeforeEach {
        Reset-Emulator $script:Emulator.BaseUri
        $null = [pscustomobject]@{ externalId = 'co-1'; name = 'Acme Ltd' } | Invoke-KustomerUpsert -Object Company -Destination experience
        $null = [pscustomobject]@{ externalId = 'crm-0001'; name = 'Ada'; email = 'ada@example.com'; lifetimeValueNum = 12; companyExternalId = 'co-1'; tierStr = 'gold' } |
            Invoke-KustomerUpsert -Object Customer -Destination experience
    }

    It 'leaves fields of blank cells untouched with -SkipNull (typed fields, emails, references)' {
        $csv = "externalId,name,email,lifetimeValueNum,companyExternalId,tierStr`ncrm-0001,Ada Lovelace,,  ,,`n" | ConvertFrom-Csv
        $results = @($csv | Invoke-KustomerUpsert -Object Customer -Destination experience -SkipNull -ErrorAction SilentlyContinue |
                Where-Object { $_ -is [KustomerSync.UpsertResult] })
        $results.Status | Should -Be 'Updated'
        $stored = Get-StoredCustomer $script:Emulator.BaseUri 'crm-0001'
        $stored.attributes.name | Should -Be 'Ada Lovelace'
        $stored.attributes.emails[0].email | Should -Be 'ada@example.com'
        $stored.attributes.custom.lifetimeValueNum | Should -Be 12
        $stored.attributes.custom.tierStr | Should -Be 'gold'
        $stored.relationships.company.data.id | Should -Not -BeNullOrEmpty
    }

    It 'treats a blank number as no value rather than "not a number"' {
        $csv = "externalId,lifetimeValueNum`ncrm-0001,`n" | ConvertFrom-Csv
        $result = $csv | Invoke-KustomerUpsert -Object Customer -Destination experience -ErrorAction SilentlyContinue | Where-Object { $_ -is [KustomerSync.UpsertResult] }
        $result.Status | Should -Be 'Updated'
    }

    It 'treats a blank key as a missing key' {
        $csv = "externalId,name`n ,Nobody`n" | ConvertFrom-Csv
        $result = $csv | Invoke-KustomerUpsert -Object Customer -Destination experience -ErrorAction SilentlyContinue | Where-Object { $_ -is [KustomerSync.UpsertResult] }
        $result.Status | Should -Be 'Invalid'
        $result.ErrorId | Should -Be 'KustomerSync.MissingKey'
    }
}

Describe 'An outage is one failure (issue 13, item 3)' {
    BeforeAll {
        $script:Doomed = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0'
        Connect-KustomerDestination -BaseUri $script:Doomed.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_EXPERIENCE_KEY -Name doomed
    }
    AfterAll { Stop-KustomerEmulator $script:Doomed }

    It 'stops after the destination stays unreachable, with one error, a Failed run and every row accounted for' {
        $state = Join-Path ([System.IO.Path]::GetTempPath()) "outage-$([guid]::NewGuid().ToString('N')).db"
        $doomed = $script:Doomed
        # Streamed, so Kustomer goes away while the run is under way.
        $results = @(1..60 | ForEach-Object {
                if ($_ -eq 11) { Stop-KustomerEmulator $doomed }
                [pscustomobject]@{ externalId = "o-$_"; name = "Row $_" }
            } | Invoke-KustomerUpsert -Object Customer -Destination doomed -NoBulk -ThrottleLimit 4 -StatePath $state `
                -SummaryVariable summary -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $results.Count | Should -Be 60
        $summary.Total | Should -Be 60
        $summary.Created + $summary.Failed | Should -Be 60
        @($failures).Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'KustomerSync.ConnectionFailed*'
        @($results | Where-Object ErrorId -EQ 'KustomerSync.NotAttempted').Count | Should -BeGreaterThan 30
        @($results | Where-Object ErrorId -EQ 'KustomerSync.ConnectionFailed').Count | Should -BeLessOrEqual 8
        $run = Get-KustomerSyncRun -StatePath $state | Select-Object -Last 1
        $run.Status | Should -Be 'Failed'
        $run.Message | Should -BeLike '*could not be reached*'
        Remove-Item $state* -ErrorAction SilentlyContinue
    }
}

Describe 'Output (issue 13, item 6)' {
    BeforeAll {
        Reset-Emulator $script:Emulator.BaseUri
        $script:Rows = @(
            [pscustomobject]@{ externalId = 'out-1'; name = 'One' }
            [pscustomobject]@{ externalId = 'out-2'; lifetimeValueNum = 'lots of money, more than anyone could count' }
            [pscustomobject]@{ externalId = 'out-3'; name = 'Three' }
        )
    }

    It 'writes only results, in input order, and the summary by -SummaryVariable and one host line' {
        $all = @($script:Rows | Invoke-KustomerUpsert -Object Customer -Destination experience -SummaryVariable summary -ErrorVariable rowErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue 6>&1)
        $information = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
        $output = @($all | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] })
        $output.Count | Should -Be 3
        $output | ForEach-Object { $_ | Should -BeOfType KustomerSync.UpsertResult }
        $output.Row | Should -Be @(1, 2, 3)
        $summary | Should -BeOfType KustomerSync.UpsertSummary
        $summary.Total | Should -Be 3
        $summary.Invalid | Should -Be 1
        $information.Count | Should -Be 1
        "$($information[0].MessageData)" | Should -BeLike 'Customer by ExternalId: 3 rows, * 1 invalid, 0 failed*'
        @($rowErrors).Count | Should -Be 0 -Because 'a rejected row is shown once, as its result'
    }

    It 'shows Status, Key, ErrorId and the whole Message of a row at 100 columns' {
        $results = $script:Rows | Invoke-KustomerUpsert -Object Customer -Destination experience -ErrorAction SilentlyContinue -WarningAction SilentlyContinue 6>$null
        $text = $results | Out-String -Width 100
        $lines = $text -split "`r?`n"
        ($lines | Where-Object { $_.Length -gt 100 }) | Should -BeNullOrEmpty
        $lines | Where-Object { $_ -match '^\s*Row\s+Status\s+Key\s+ErrorId\s+Message\s*$' } | Should -Not -BeNullOrEmpty
        $lines | Where-Object { $_ -match '^\s*2\s+Invalid\s+out-2\s+InvalidValue\s+\S' } | Should -Not -BeNullOrEmpty
        # The message survives wrapping word for word.
        $bad = $results | Where-Object Row -EQ 2
        $shown = ($lines | Where-Object { $_.Length -gt 54 } | ForEach-Object { $_.Substring(54).Trim() }) -join ' '
        foreach ($word in ($bad.Message -replace "^Row \d+( \(key '.*?'\))?: ", '' -split ' ')) { $shown | Should -Match ([regex]::Escape($word)) }
    }

    It 'gives Invoke-KustomerSync the same convention: nothing but results on the output stream' {
        $work = Join-Path ([System.IO.Path]::GetTempPath()) "exp-sync-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory -Path $work | Out-Null
        $db = Join-Path $work 'people.db'
        Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$db" -Query "create table people (id text, full_name text); insert into people values ('sy-1', 'One'), ('sy-2', 'Two')" | Out-Null
        $definition = Join-Path $work 'people.sync.psd1'
        @"
@{
    Name = 'exp-people'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, full_name from people order by id' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KUSTOMERSYNC_EXPERIENCE_KEY' }
    Object = 'Customer'
    Mapping = @{ name = 'full_name' }
    State = @{ Path = 'people.state.db' }
}
"@ | Set-Content $definition
        @(Invoke-KustomerSync -Path $definition -SummaryVariable first 6>$null).Count | Should -Be 0
        $first.Created | Should -Be 2
        $passThru = @(Invoke-KustomerSync -Path $definition -PassThru -SummaryVariable second 6>$null)
        $passThru.Count | Should -Be 2
        $passThru | ForEach-Object { $_ | Should -BeOfType KustomerSync.UpsertResult }
        $second.Unchanged | Should -Be 2
        Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Describe 'The emulator task as the README gives it (issue 13, item 5)' {
    BeforeAll {
        $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $script:Pwsh = Join-Path $PSHOME 'pwsh.dll'
    }

    It 'starts in the background from bash on the port asked for, answers, and stops with StopEmulator' -Skip:$IsWindows {
        $port = Get-FreeLoopbackPort
        $start = & bash -c "cd '$script:Repo' && dotnet '$script:Pwsh' -NoProfile -File ./build.ps1 -Task Emulator -Background -Port $port -EmulatorArguments '--rate-limit 0 --latency-ms 1' 2>&1"
        $LASTEXITCODE | Should -Be 0 -Because ($start -join "`n")
        ($start -join "`n") | Should -Not -Match 'Building KustomerSync' -Because 'the emulator was built already'
        $script:Http.GetAsync("http://127.0.0.1:$port/health").GetAwaiter().GetResult().IsSuccessStatusCode | Should -BeTrue
        $emulatorPid = [int](Get-Content (Join-Path $script:Repo '.tmp/emulator/emulator.pid'))
        & bash -c "cd '$script:Repo' && dotnet '$script:Pwsh' -NoProfile -File ./build.ps1 -Task StopEmulator" | Out-Null
        $LASTEXITCODE | Should -Be 0
        Get-Process -Id $emulatorPid -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'documents one port everywhere' {
        $readme = Get-Content (Join-Path $script:Repo 'README.md') -Raw
        $about = Get-Content (Join-Path $script:Repo 'module/en-US/about_KustomerSync.help.txt') -Raw
        $ports = @([regex]::Matches($readme + $about, '127\.0\.0\.1:(\d+)') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
        $ports | Should -Be @('5080')
        $readme | Should -Match 'build\.ps1 -Task Emulator -Background'
    }
}

Describe 'The scheduled-task script (issue 13, item 9)' {
    BeforeAll {
        $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
        $script:Work9 = Join-Path ([System.IO.Path]::GetTempPath()) "exp-sched-$([guid]::NewGuid().ToString('N'))"
        New-Item -ItemType Directory -Path $script:Work9 | Out-Null
        function script:Invoke-Pwsh([string[]] $Arguments, [hashtable] $Environment = @{}) {
            $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive') + $Arguments) { $psi.ArgumentList.Add($a) }
            foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $psi.WorkingDirectory = $script:Repo
            $process = [System.Diagnostics.Process]::Start($psi)
            $stdout = $process.StandardOutput.ReadToEndAsync()
            $stderr = $process.StandardError.ReadToEndAsync()
            if (-not $process.WaitForExit(300000)) { $process.Kill($true); throw 'the child did not finish in 300 s' }
            [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.GetAwaiter().GetResult(); Errors = $stderr.GetAwaiter().GetResult() }
        }
        # A home of its own, so Install writes where this test can look and nothing of the user's is touched.
        $script:Home9 = Join-Path $script:Work9 'home'
        New-Item -ItemType Directory -Path $script:Home9 | Out-Null
        # NuGet's cache stays where it is, should Install have to build.
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
        $script:Env9 = @{ HOME = $script:Home9; USERPROFILE = $script:Home9; PSModulePath = ''; NUGET_PACKAGES = $packages; KUSTOMERSYNC_EXPERIENCE_KEY = 'emulator-key' }
    }
    AfterAll { Remove-Item $script:Work9 -Recurse -Force -ErrorAction SilentlyContinue }

    It 'Install puts the module where Import-Module KustomerSync finds it' {
        # Install builds when the sources are newer than out/, which would replace the module under the suites still
        # to run: only a current build is installed here.
        $built = (Get-ChildItem $env:KUSTOMERSYNC_MODULE_PATH -Recurse -File -ErrorAction SilentlyContinue |
                Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
        $changed = Get-ChildItem (Join-Path $script:Repo 'src'), (Join-Path $script:Repo 'module'), (Join-Path $script:Repo 'docs/cmdlets') -Recurse -File |
            Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' -and $_.LastWriteTimeUtc -gt $built } | Select-Object -First 1
        if ($env:KUSTOMERSYNC_MODULE_PATH -notlike "$script:Repo*" -or $changed) {
            Set-ItResult -Skipped -Because "the module under test is not this checkout's current build ($($changed.FullName) is newer)"
            return
        }
        $install = Invoke-Pwsh @('-File', './build.ps1', '-Task', 'Install') $script:Env9
        $install.ExitCode | Should -Be 0 -Because "$($install.Output)$($install.Errors)"
        $found = Invoke-Pwsh @('-Command', 'Import-Module KustomerSync; (Get-Module KustomerSync).ModuleBase') $script:Env9
        $found.Output.Trim() | Should -BeLike "$script:Home9*"
    }

    It 'writes one plain line per rejected row and logs failed runs with -LogPath' {
        $db = Join-Path $script:Work9 'people.db'
        Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$db" -Query "create table people (id text, n text); insert into people values ('ok-1', '1'), ('bad-2', 'lots')" | Out-Null
        $good = Join-Path $script:Work9 'partial.sync.psd1'
        @"
@{
    Name = 'sched-partial'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, n as lifetimeValueNum from people order by id desc' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = 'KUSTOMERSYNC_EXPERIENCE_KEY' }
    Object = 'Customer'
    State = @{ Path = 'partial.state.db' }
}
"@ | Set-Content $good
        $script = (Resolve-Path (Join-Path $script:Repo 'module/examples/Invoke-ScheduledSync.ps1')).Path
        $log = Join-Path $script:Work9 'sync.log.jsonl'
        # The module under test, found by name as a scheduled task finds an installed one.
        $found = @{ PSModulePath = (Split-Path $env:KUSTOMERSYNC_MODULE_PATH) + [System.IO.Path]::PathSeparator + $env:PSModulePath; KUSTOMERSYNC_EXPERIENCE_KEY = 'emulator-key' }
        $run = Invoke-Pwsh @('-File', $script, '-Path', $good, '-LogPath', $log) $found
        $run.ExitCode | Should -Be 2
        $rejected = @(($run.Output + $run.Errors) -split "`r?`n" | Where-Object { $_ -like 'REJECTED*' })
        $rejected.Count | Should -Be 1
        $rejected[0] | Should -BeLike "REJECTED row 2 key 'bad-2' InvalidValue: *lifetimeValueNum*not a number*"
        $run.Errors | Should -Not -Match "`e\[" -Because 'logs get no colour codes'

        $broken = Join-Path $script:Work9 'broken.sync.psd1'
        (Get-Content $good -Raw).Replace($db, (Join-Path $script:Work9 'missing/none.db') + ';Mode=ReadOnly') | Set-Content $broken
        $failed = Invoke-Pwsh @('-File', $script, '-Path', $broken, '-LogPath', $log) $found
        $failed.ExitCode | Should -Be 1
        $entries = @(Get-Content $log | ConvertFrom-Json)
        $entries.Count | Should -Be 2
        $entries[1].ExitCode | Should -Be 1
        $entries[1].ErrorId | Should -BeLike 'KustomerSync.Source*'
    }

    It 'ships an example definition whose mapping names attributes the emulator defines' {
        $definition = Import-PowerShellDataFile (Join-Path $script:Repo 'module/examples/customers.sync.psd1')
        $attributes = @(Get-KustomerSchema Customer -Destination experience | ForEach-Object { "custom.$($_.Name)" })
        foreach ($target in $definition.Mapping.Keys | Where-Object { $_ -like 'custom.*' }) { $attributes | Should -Contain $target }
    }
}

Describe '-Verbose and -Debug narrate the run (issue 13, item 8)' {
    BeforeAll {
        # A short window whose end every answer states: without x-ratelimit-reset on 200s the gate assumes Kustomer's
        # 60-second window and the test would wait a minute for each four requests.
        $script:Paced = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '4', '--rate-window-seconds', '5', '--rate-reset-on-success', 'true'
        Connect-KustomerDestination -BaseUri $script:Paced.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_EXPERIENCE_KEY -Name paced
    }
    AfterAll { Stop-KustomerEmulator $script:Paced }

    It '-Verbose tells the mapping, each row and the waits for the rate window' {
        $rows = 1..3 | ForEach-Object { [pscustomobject]@{ externalId = "v-$_"; full_name = "Person $_"; extra = 1 } }
        $verbose = @($rows | Invoke-KustomerUpsert -Object Customer -Destination paced -NoBulk -Mapping @{ name = 'full_name' } -Verbose -WarningAction SilentlyContinue 4>&1 6>$null |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $verbose | Should -Contain 'Mapping: full_name -> name, externalId -> externalId (the sync key); not sent: extra.'
        $verbose | Should -Contain "Row 1 (key 'v-1'): Created $((Get-StoredCustomer $script:Paced.BaseUri 'v-1').id)."
        # The default share (3 of the 4) holds the requests before the org's window is spent.
        $waits = @($verbose | Where-Object { $_ -like "Pacing to this sync's share: * of its 3 requests a rate window used (the org's limit is 4), the org has * left for its other apps; next request in * s." })
        $waits | Should -Not -BeNullOrEmpty
        # Told before the wait: the next row's outcome comes after it.
        $at = [array]::IndexOf([string[]]$verbose, $waits[0])
        ($verbose | Select-Object -Skip ($at + 1) | Where-Object { $_ -like 'Row * (key *' }) | Should -Not -BeNullOrEmpty
    }

    It '-Debug shows each HTTP exchange and never the key' {
        $debug = @([pscustomobject]@{ externalId = 'd-1'; name = 'Dee' } |
                Invoke-KustomerUpsert -Object Customer -Destination experience -NoBulk -Debug -WarningAction SilentlyContinue 5>&1 6>$null |
                Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message)
        ($debug | Where-Object { $_ -match '^POST /v1/customers \([\d,]+ bytes\) -> 20\d ' }) | Should -Not -BeNullOrEmpty
        ($debug | Where-Object { $_ -match '^GET /v1/customers/externalId=d-1 -> 404 ' }) | Should -Not -BeNullOrEmpty
        ($debug -join "`n") | Should -Not -Match 'emulator-key'
    }
}

Describe 'Smaller things a new admin meets (issue 13, item 10)' {
    It 'offers only attributes that can hold a key after -SyncKey' {
        $line = 'Invoke-KustomerUpsert -Object Customer -Destination experience -SyncKey '
        $texts = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $texts | Should -Contain 'tierStr'
        $texts | Should -Contain 'lifetimeValueNum'
        $texts | Should -Not -Contain 'optInBool'
        $texts | Should -Not -Contain 'lastOrderAt'
        $texts | Should -Not -Contain 'websiteUrl'
    }

    It 'shows a run''s duration and its whole reason at 100 columns' {
        $started = [DateTime]::UtcNow.AddMinutes(-5)
        $run = [KustomerSync.SyncRunInfo]@{ Sync = 'customers'; RunId = 7; Started = $started; Ended = $started.AddSeconds(75); Status = 'Failed'; Total = 300
            Created = 10; Failed = 290; Message = 'Kustomer could not be reached for 3 rows in a row, each after all its attempts, so the run stopped.' }
        $lines = ($run | Out-String -Width 100) -split "`r?`n"
        ($lines | Where-Object { $_.Length -gt 100 }) | Should -BeNullOrEmpty
        $lines | Where-Object { $_ -match '^\s*7\s+\S+ \S+\s+00:01:15\s+Failed\s+300\s+10\s+290\s+\S' } | Should -Not -BeNullOrEmpty
        $body = $lines | Select-Object -Skip ([array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l -match '^-----' }) + 1)
        $shown = ($body | Where-Object { $_.Length -gt 73 } | ForEach-Object { $_.Substring(73).Trim() }) -join ' '
        $shown | Should -Be $run.Message
        ($lines -join "`n") | Should -Match 'Sync: customers'
    }

    It 'shows a destination''s whole base URI and key source at 100 columns' {
        $key = ConvertTo-SecureString 'view-test-key' -AsPlainText -Force
        $d = [KustomerSync.KustomerDestination]::new('acme-eu', 'acme', [uri]'https://acme.api.prod2.kustomerapp.com/', 'EU', $key, 'Environment variable KUSTOMER_API_KEY_PRODUCTION')
        $text = $d | Out-String -Width 100
        ($text -split "`r?`n" | Where-Object { $_.Length -gt 100 }) | Should -BeNullOrEmpty
        $text | Should -Match 'https://acme\.api\.prod2\.kustomerapp\.com/'
        ($text -replace '\s+', '') | Should -Match 'EnvironmentvariableKUSTOMER_API_KEY_PRODUCTION'
    }

    It 'lists a key''s roles one a line in Test-KustomerConnection''s view' {
        $result = [KustomerSync.ConnectionTestResult]@{ Destination = 'acme'; BaseUri = [uri]'https://acme.api.kustomerapp.com/'; Succeeded = $true; TokenName = 'sync key'
            Roles = @('org.admin.klass.read', 'org.user.kobject.read', 'org.admin.metadata.read', 'org.admin.search.read', 'org.user.customer.write') }
        $lines = ($result | Out-String -Width 100) -split "`r?`n"
        foreach ($role in $result.Roles) { $lines | Where-Object { $_ -match "^(Roles\s+:\s+|\s+)$([regex]::Escape($role))\s*$" } | Should -Not -BeNullOrEmpty }
    }

    It 'keeps the line breaks of an indented table in Get-Help -Full' {
        $lines = (Get-Help Invoke-KustomerSync -Full | Out-String -Width 200) -split "`r?`n"
        $at = [array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l -match '^\s+Source\s+Provider; ConnectionString \| ConnectionStringEnvironmentVariable \|\s*$' })
        $at | Should -BeGreaterThan 0
        $lines[$at + 1] | Should -Match '^\s+ConnectionStringAutomationVariable \| ConnectionStringSecret; UserName with\s*$'
    }

    It 'has online help for every cmdlet' {
        Get-Command -Module KustomerSync -CommandType Cmdlet | ForEach-Object { $_.HelpUri | Should -BeLike "https://*/docs/cmdlets/$($_.Name).md" }
    }

    It 'rejects a company name under 3 characters before any request, naming the column once' {
        $before = Get-Writes $script:Emulator.BaseUri
        $result = [pscustomobject]@{ externalId = 'co-short'; name = 'AB' } |
            Invoke-KustomerUpsert -Object Company -Destination experience -WarningAction SilentlyContinue 6>$null
        $result.Status | Should -Be 'Invalid'
        $result.ErrorId | Should -Be 'KustomerSync.InvalidValue'
        $result.Message | Should -Be "Row 1 (key 'co-short'): column 'name' 'AB' is 2 characters long; Kustomer needs at least 3."
        Get-Writes $script:Emulator.BaseUri | Should -Be $before
    }

    It 'says so when Connect-KustomerDestination succeeds' {
        $said = @(Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_EXPERIENCE_KEY -Name said 6>&1)
        $said.Count | Should -Be 1
        "$($said[0].MessageData)" | Should -BeLike "Connected 'said' (http://127.0.0.1:*): key * with * roles, * ms."
        Disconnect-KustomerDestination -Name said
    }
}

Describe 'An unknown klass (issue 13, item 10)' {
    It 'suggests the closest klass of the organization' {
        $caught = $null
        try { [pscustomobject]@{ externalId = 'k-1' } | Invoke-KustomerUpsert -Object kobject.orders -Destination experience 6>$null } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'KustomerSync.UnknownKlass*'
        "$caught" | Should -BeLike "*kobject.orders names no klass*(did you mean 'kobject.order'?)*"
    }
}
