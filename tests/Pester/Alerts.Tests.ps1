# Alerts of unattended runs end to end: Invoke-KustomerSync posts to a local webhook receiver (an HttpListener on
# loopback) exactly when the definition's Alerts policy says: a failed run, more than the share of rejected rows,
# successes only when asked; posts carry counts and keys, never the API key or row data.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module (Join-Path $PSScriptRoot 'SyncFixtures.psm1') -Force
    $script:Key = 'ks-alerts-' + [guid]::NewGuid().ToString('N')
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) "ks-alerts-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $script:Work | Out-Null
    $keysFile = New-EmulatorKeyFile -Folder $script:Work -Key $script:Key
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--keys', $keysFile, '--rate-limit', '0'
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force

    $script:Receiver = Start-WebhookReceiver -Port (Get-FreeLoopbackPort)
    $script:HookUrl = $script:Receiver.Url
    $env:KS_ALERTS_TEST_KEY = $script:Key
    $env:KS_ALERTS_TEST_HOOK = $script:HookUrl

    function script:Take-Posts { Get-WebhookPosts $script:Receiver }

    function script:New-AlertSync {
        param([string] $Name, [int] $Rows, [int] $BadEmails, [string] $KeyVariable = 'KS_ALERTS_TEST_KEY', [string] $Alerts = "WebhookEnvironmentVariable = 'KS_ALERTS_TEST_HOOK'")
        $db = Join-Path $script:Work "$Name.db"
        New-SqlitePeople -Path $db -Prefix $Name -Rows $Rows -BadEmails $BadEmails
        $path = Join-Path $script:Work "$Name.sync.psd1"
        @"
@{
    Name = '$Name'
    Source = @{ Provider = 'Sqlite'; ConnectionString = 'Data Source=$db'; Query = 'select id as externalId, full_name as name, email from people' }
    Destination = @{ BaseUri = '$($script:Emulator.BaseUri)'; ApiKeyEnvironmentVariable = '$KeyVariable' }
    Object = 'Customer'
    State = @{ Path = '$Name.state.db' }
    Alerts = @{ $Alerts }
}
"@ | Set-Content -Path $path
        $path
    }
}

AfterAll {
    Stop-WebhookReceiver $script:Receiver
    Stop-KustomerEmulator $script:Emulator
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:KS_ALERTS_TEST_KEY, Env:KS_ALERTS_TEST_HOOK, Env:KS_ALERTS_WRONG_KEY -ErrorAction SilentlyContinue
}

Describe 'Webhook alerts of Invoke-KustomerSync' {
    It 'posts nothing for a clean run' {
        $null = Take-Posts
        Invoke-KustomerSync -Path (New-AlertSync -Name 'al-clean' -Rows 10 -BadEmails 0) 6>$null
        $LASTEXITCODE | Should -Be 0
        @(Take-Posts).Count | Should -Be 0
    }

    It 'posts once when more than the share of rows is rejected, naming keys but no row data' {
        $null = Take-Posts
        Invoke-KustomerSync -Path (New-AlertSync -Name 'al-partial' -Rows 20 -BadEmails 4) -ErrorAction SilentlyContinue 6>$null
        $LASTEXITCODE | Should -Be 2
        $posts = @(Take-Posts)
        $posts.Count | Should -Be 1
        $posts[0].status | Should -Be 'PartiallyFailed'
        $posts[0].invalid | Should -Be 4
        $posts[0].rejectedKeys | Should -Contain 'al-partial-1'
        ($posts[0] | ConvertTo-Json -Depth 5) | Should -Not -Match 'not-an-email|Person '
    }

    It 'posts nothing when the rejected share stays under the setting' {
        $null = Take-Posts
        Invoke-KustomerSync -Path (New-AlertSync -Name 'al-under' -Rows 20 -BadEmails 1 -Alerts "WebhookEnvironmentVariable = 'KS_ALERTS_TEST_HOOK'; RejectedShare = 0.1") -ErrorAction SilentlyContinue 6>$null
        $LASTEXITCODE | Should -Be 2
        @(Take-Posts).Count | Should -Be 0
    }

    It 'posts once for a failed run, with its ErrorId and without the key' {
        $null = Take-Posts
        $env:KS_ALERTS_WRONG_KEY = 'wrong-' + $script:Key
        { Invoke-KustomerSync -Path (New-AlertSync -Name 'al-failed' -Rows 5 -BadEmails 0 -KeyVariable 'KS_ALERTS_WRONG_KEY') -ErrorAction Stop 6>$null } | Should -Throw
        $LASTEXITCODE | Should -Be 1
        $posts = @(Take-Posts)
        $posts.Count | Should -Be 1
        $posts[0].status | Should -Be 'Failed'
        $posts[0].errorId | Should -Be 'KustomerSync.AuthenticationFailed'
        ($posts[0] | ConvertTo-Json -Depth 5) | Should -Not -Match ([regex]::Escape($script:Key))
    }

    It 'posts successes too with OnSuccess, and never for -WhatIf' {
        $null = Take-Posts
        $path = New-AlertSync -Name 'al-success' -Rows 3 -BadEmails 0 -Alerts "WebhookEnvironmentVariable = 'KS_ALERTS_TEST_HOOK'; OnSuccess = `$true"
        Invoke-KustomerSync -Path $path -WhatIf 6>$null
        @(Take-Posts).Count | Should -Be 0
        Invoke-KustomerSync -Path $path 6>$null
        $posts = @(Take-Posts)
        $posts.Count | Should -Be 1
        $posts[0].status | Should -Be 'Succeeded'
        $posts[0].created | Should -Be 3
    }

    It 'warns and still ends the run by its own outcome when the webhook cannot be reached' {
        $env:KS_ALERTS_DEAD_HOOK = 'http://127.0.0.1:9/hooks/gone'
        $path = New-AlertSync -Name 'al-dead' -Rows 3 -BadEmails 0 -Alerts "WebhookEnvironmentVariable = 'KS_ALERTS_DEAD_HOOK'; OnSuccess = `$true"
        Invoke-KustomerSync -Path $path -WarningVariable warned -WarningAction SilentlyContinue 6>$null
        $LASTEXITCODE | Should -Be 0
        @($warned | Where-Object { "$_" -match 'alert to 127\.0\.0\.1 was not delivered' }).Count | Should -Be 1
        "$warned" | Should -Not -Match 'hooks/gone'
        Remove-Item Env:KS_ALERTS_DEAD_HOOK
    }
}
