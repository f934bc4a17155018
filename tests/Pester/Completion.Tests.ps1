# Tab completion against the running emulator, through TabExpansion2 as the console would call it: -Object offers
# the org's klasses as kobject.<klass>, -SyncKey its custom attributes, -Mapping its fields, -Destination the
# connected destinations; without a connection the completers still answer with what they know, and never throw.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    $script:Emulator = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }

    function script:Complete([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    Stop-KustomerEmulator $script:Emulator
    Remove-Item Env:KUSTOMERSYNC_COMPLETION_KEY -ErrorAction SilentlyContinue
}

Describe 'Completion without a connected destination' {
    It 'offers Customer and Company for -Object' {
        $texts = (Complete 'Invoke-KustomerUpsert -Object ').CompletionText
        $texts | Should -Contain 'Customer'
        $texts | Should -Contain 'Company'
        $texts | Where-Object { $_ -like 'kobject.*' } | Should -BeNullOrEmpty
    }

    It 'offers ExternalId and Email for -SyncKey of customers' {
        $texts = (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey ').CompletionText
        $texts | Should -Be @('ExternalId', 'Email')
    }

    It 'offers the standard fields for -Mapping' {
        $found = Complete 'Invoke-KustomerUpsert -Object Customer -Mapping '
        $found.ListItemText | Should -Contain 'name'
        $found.CompletionText | Should -Contain "@{ 'externalId' = '' }"
    }
}

Describe 'Completion against the emulator' {
    BeforeAll {
        $env:KUSTOMERSYNC_COMPLETION_KEY = 'emulator-key'
        Connect-KustomerDestination -BaseUri $script:Emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_COMPLETION_KEY -Name emulator
    }

    It 'offers the seeded klasses for -Object' {
        $texts = (Complete 'Invoke-KustomerUpsert -Object ').CompletionText
        $texts | Should -Contain 'Customer'
        $texts | Should -Contain 'kobject.order'
        $texts | Should -Contain 'kobject.subscription'
    }

    It 'narrows -Object by the typed prefix, and by the klass name alone' {
        (Complete 'Invoke-KustomerUpsert -Object kobject.o').CompletionText | Should -Be @('kobject.order')
        (Complete 'Invoke-KustomerUpsert -Object subs').CompletionText | Should -Be @('kobject.subscription')
        (Complete 'Invoke-KustomerUpsert -Object cu').CompletionText | Should -Be @('Customer')
    }

    It 'shows the klass display name in the tooltip' {
        $order = Complete 'Invoke-KustomerUpsert -Object kobject.or' | Select-Object -First 1
        $order.ToolTip | Should -Match 'Order'
    }

    It 'offers the custom attributes of customers for -SyncKey' {
        $texts = (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey ').CompletionText
        $texts | Should -Contain 'ExternalId'
        $texts | Should -Contain 'Email'
        $texts | Should -Contain 'tierStr'
        $texts | Should -Contain 'crmAccountIdStr'
    }

    It 'offers company attributes, and no Email, for -SyncKey of companies' {
        $texts = (Complete 'Invoke-KustomerUpsert Company -SyncKey ').CompletionText
        $texts | Should -Contain 'accountIdStr'
        $texts | Should -Not -Contain 'Email'
        $texts | Should -Not -Contain 'tierStr'
    }

    It 'offers only ExternalId for -SyncKey of custom objects' {
        (Complete 'Invoke-KustomerUpsert -Object kobject.order -SyncKey ').CompletionText | Should -Be @('ExternalId')
    }

    It 'narrows -SyncKey by prefix, with or without custom.' {
        (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey crm').CompletionText | Should -Be @('crmAccountIdStr')
        (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey custom.tier').CompletionText | Should -Be @('tierStr')
    }

    It 'offers custom attributes as custom.tierStr and so on for -Mapping' {
        $found = Complete 'Invoke-KustomerUpsert -Object Customer -Mapping '
        $found.ListItemText | Should -Contain 'custom.tierStr'
        $found.ListItemText | Should -Contain 'custom.lifetimeValueNum'
        $found.CompletionText | Should -Contain "@{ 'custom.tierStr' = '' }"
        (Complete 'Invoke-KustomerUpsert -Object kobject.order -Mapping custom.tot').ListItemText | Should -Be @('custom.totalNum')
    }

    It 'produces a -Mapping value that the upsert accepts' {
        $text = (Complete 'Invoke-KustomerUpsert -Object Customer -Mapping custom.tier').CompletionText | Select-Object -First 1
        $mapping = [scriptblock]::Create($text).InvokeReturnAsIs()
        $mapping.Keys | Should -Be @('custom.tierStr')
    }

    It 'offers the connected destinations for -Destination' {
        (Complete 'Invoke-KustomerUpsert -Object Customer -Destination ').CompletionText | Should -Be @('emulator')
        (Complete 'Test-KustomerConnection -Destination em').CompletionText | Should -Be @('emulator')
        (Complete 'Get-KustomerDestination -Name ').CompletionText | Should -Be @('emulator')
    }

    It 'uses the destination named by -Destination' {
        (Complete 'Invoke-KustomerUpsert -Destination emulator -Object kobject.').CompletionText | Should -Contain 'kobject.order'
        (Complete 'Invoke-KustomerUpsert -Destination nowhere -Object ').CompletionText | Should -Be @('Customer', 'Company')
    }

    It 'answers from its cache for a minute, without asking the org again' {
        $null = Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey '
        $before = (Invoke-RestMethod "$($script:Emulator.BaseUri)/_emulator/stats").totalRequests
        1..20 | ForEach-Object { $null = Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey ' }
        (Invoke-RestMethod "$($script:Emulator.BaseUri)/_emulator/stats").totalRequests | Should -Be $before
    }
}

Describe 'Completion when the org cannot answer' {
    BeforeAll {
        Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
        $env:KUSTOMERSYNC_COMPLETION_KEY = 'emulator-key'
        # An org that takes connections and never answers, until the test lets go of it (or 90 s have passed,
        # so that a completer without a budget fails the test instead of hanging it).
        Add-Type -TypeDefinition @'
using System.Net;
using System.Net.Sockets;
using System.Threading;
public sealed class SilentOrg : System.IDisposable
{
    private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
    private readonly Timer _valve;
    private int _released;
    public SilentOrg() { _listener.Start(); _valve = new Timer(_ => Release(), null, 90000, Timeout.Infinite); }
    public int Port { get { return ((IPEndPoint)_listener.LocalEndpoint).Port; } }
    public bool HasCalls { get { return _listener.Pending(); } }
    public bool Released { get { return Volatile.Read(ref _released) != 0; } }
    public void Release() { if (Interlocked.Exchange(ref _released, 1) == 0) _listener.Stop(); }
    public void Dispose() { _valve.Dispose(); Release(); }
}
'@
    }

    AfterEach {
        Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    }

    It 'offers what it knows, without an error, when nothing listens' {
        # A loopback port with nothing listening: every request fails at once.
        Connect-KustomerDestination -BaseUri "http://127.0.0.1:$(Get-FreeLoopbackPort)" -ApiKeyEnvironmentVariable KUSTOMERSYNC_COMPLETION_KEY -Name dead -SkipConnectionTest
        (Complete 'Invoke-KustomerUpsert -Object ').CompletionText | Should -Be @('Customer', 'Company')
        (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey ').CompletionText | Should -Be @('ExternalId', 'Email')
    }

    It 'gives up on an org that does not answer and offers what it knows' {
        $org = [SilentOrg]::new()
        try {
            Connect-KustomerDestination -BaseUri "http://127.0.0.1:$($org.Port)" -ApiKeyEnvironmentVariable KUSTOMERSYNC_COMPLETION_KEY -Name silent -SkipConnectionTest
            $texts = (Complete 'Invoke-KustomerUpsert -Object ').CompletionText
            $keys = (Complete 'Invoke-KustomerUpsert -Object Customer -SyncKey ').CompletionText
            $org.Released | Should -BeFalse -Because 'the completers stopped waiting on their own, while the org still held the requests'
            $org.HasCalls | Should -BeTrue -Because 'the completers asked the org'
            $texts | Should -Be @('Customer', 'Company')
            $keys | Should -Be @('ExternalId', 'Email')
        } finally {
            $org.Dispose()
        }
    }
}
