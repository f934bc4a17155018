# The Azure Automation recipe (module/examples/Invoke-KustomerSyncRunbook.ps1) run the way Automation runs a job: in
# a PowerShell instance of its own, with the Automation asset cmdlets as functions. Automation marks a job Failed when
# the runbook ends on an uncaught terminating error (the instance's state is Failed) and Completed otherwise, with
# non-terminating errors in the job's Error stream; a job's streams hold at most 1 MiB.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module (Join-Path $PSScriptRoot 'SyncFixtures.psm1') -Force
    $script:Key = 'ks-runbook-' + [guid]::NewGuid().ToString('N')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-runbook-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $keysFile = New-EmulatorKeyFile -Folder $script:Work -Key $script:Key
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile, '--rate-limit', '0'
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Runbook = Join-Path $PSScriptRoot '../../module/examples/Invoke-KustomerSyncRunbook.ps1'
    $script:ModuleParent = Split-Path ((Get-Module KustomerSync).ModuleBase) | Split-Path
    $script:Receiver = Start-WebhookReceiver -Port (Get-FreeLoopbackPort)

    function script:New-RunbookSync {
        # A SQLite source of $Rows customers, the first $BadEmails of them with an email Kustomer cannot take, and a
        # definition that reads the key from the Automation credential 'Kustomer'.
        param([string] $Name, [int] $Rows, [int] $BadEmails, [switch] $Alerts)
        $db = Join-Path $script:Work "$Name.db"
        New-SqlitePeople -Path $db -Prefix $Name -Rows $Rows -BadEmails $BadEmails
        $path = Join-Path $script:Work "$Name.sync.psd1"
        @"
@{
    Name = '$Name'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, full_name as name, email from people' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyAutomationCredential = 'Kustomer' }
    Object = 'Customer'
    SyncKey = 'ExternalId'
    State = @{ Path = '$Name.state.db' }
    $(if ($Alerts) { "Alerts = @{ WebhookAutomationVariable = 'KustomerSyncHook' }" })
}
"@ | Set-Content -Path $path
        $path
    }

    function script:Invoke-AutomationJob {
        # Runs the runbook as an Automation job would: its own runspace, the asset cmdlets as functions, a job id.
        param([string] $Definition, [string] $ApiKey, [switch] $Force)
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($ModuleParent, $ApiKey, $HookUrl)
                $env:PSModulePath = $ModuleParent + [System.IO.Path]::PathSeparator + $env:PSModulePath
                $global:PSPrivateMetadata = @{ JobId = [guid]::NewGuid() }
                function global:Get-AutomationPSCredential([string] $Name) {
                    if ($Name -ne 'Kustomer') { throw "The credential asset '$Name' was not found." }
                    [pscredential]::new('kustomer', (ConvertTo-SecureString $ApiKey -AsPlainText -Force))
                }
                function global:Get-AutomationVariable([string] $Name) {
                    if ($Name -eq 'KustomerSyncHook') { return $HookUrl }
                    throw "The variable asset '$Name' was not found."
                }
            }).AddArgument($script:ModuleParent).AddArgument($ApiKey).AddArgument($script:Receiver.Url)
        $null = $ps.AddStatement().AddCommand($script:Runbook).AddParameter('DefinitionPath', $Definition)
        if ($Force) { $null = $ps.AddParameter('Force') }
        $output = $null
        try { $output = $ps.Invoke() } catch { }
        $job = [pscustomobject]@{
            Status    = if ($ps.InvocationStateInfo.State -eq 'Failed') { 'Failed' } else { 'Completed' }
            Exception = $ps.InvocationStateInfo.Reason
            Output    = @($output)
            Errors    = @($ps.Streams.Error)
            Warnings  = @($ps.Streams.Warning)
            Other     = @($ps.Streams.Information) + @($ps.Streams.Verbose)
        }
        $ps.Dispose()
        $job
    }

    function script:Measure-Streams($Job) {
        # Characters the job's streams would hold, as Automation records each record's text.
        $records = @($Job.Output) + @($Job.Errors) + @($Job.Warnings) + @($Job.Other)
        ($records | ForEach-Object { ($_ | Out-String -Width 200).Length } | Measure-Object -Sum).Sum
    }
}

AfterAll {
    Stop-WebhookReceiver $script:Receiver
    Stop-KustomerEmulator $script:Emulator
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The Azure Automation runbook recipe' {
    It 'ends Completed with each rejected row in the Error stream and only the summary on Output' {
        $definition = New-RunbookSync -Name 'rb-partial' -Rows 30 -BadEmails 3

        $job = Invoke-AutomationJob -Definition $definition -ApiKey $script:Key

        $job.Status | Should -Be 'Completed'
        $job.Errors.Count | Should -Be 3
        $job.Errors | ForEach-Object { $_.FullyQualifiedErrorId | Should -Match '^KustomerSync\.' }
        @($job.Errors.TargetObject) | Should -Contain 'rb-partial-1'
        $job.Output.Count | Should -Be 1
        "$($job.Output[0])" | Should -Match '^KustomerSync: rb-partial: Customer by ExternalId: 30 rows, 27 created'
    }

    It 'ends Failed, carrying the ErrorId, when the run fails' {
        $definition = New-RunbookSync -Name 'rb-failed' -Rows 5 -BadEmails 0

        $job = Invoke-AutomationJob -Definition $definition -ApiKey 'not-the-key'

        $job.Status | Should -Be 'Failed'
        $job.Exception.ErrorRecord.FullyQualifiedErrorId | Should -Match '^KustomerSync\.AuthenticationFailed'
        $job.Output.Count | Should -Be 0
        "$($job.Exception.Message)$($job.Errors | Out-String)" | Should -Not -Match ([regex]::Escape('not-the-key'))
    }

    It 'ends Failed with KustomerSync.GuardTripped and alerts when a guard refuses the run, and runs when started with Force' {
        $definition = New-RunbookSync -Name 'rb-guarded' -Rows 20 -BadEmails 0 -Alerts
        (Invoke-AutomationJob -Definition $definition -ApiKey $script:Key).Status | Should -Be 'Completed'
        @(Get-WebhookPosts $script:Receiver).Count | Should -Be 0
        Invoke-Sqlite -Path (Join-Path $script:Work 'rb-guarded.db') -Sql 'delete from people'

        $job = Invoke-AutomationJob -Definition $definition -ApiKey $script:Key

        $job.Status | Should -Be 'Failed'
        $job.Exception.ErrorRecord.FullyQualifiedErrorId | Should -Match '^KustomerSync\.GuardTripped'
        $job.Exception.Message | Should -Match 'EmptySource'
        $posts = @(Get-WebhookPosts $script:Receiver)
        $posts.Count | Should -Be 1
        $posts[0].status | Should -Be 'Refused'
        (Invoke-AutomationJob -Definition $definition -ApiKey $script:Key -Force).Status | Should -Be 'Completed'
    }

    It 'keeps a 100,000-row run with every row rejected within the 1 MiB a job stream holds' {
        $definition = New-RunbookSync -Name 'rb-large' -Rows 100000 -BadEmails 100000

        $job = Invoke-AutomationJob -Definition $definition -ApiKey $script:Key

        $job.Status | Should -Be 'Completed'
        $job.Errors.Count | Should -Be 100
        @($job.Warnings | Where-Object { "$_" -match '99,?900 more rejected rows' }).Count | Should -Be 1
        Measure-Streams $job | Should -BeLessThan 1MB
        "$($job.Output[0])" | Should -Match '100,000 rows, 0 created, 0 updated, 0 unchanged, 100,000 invalid'
    }
}
