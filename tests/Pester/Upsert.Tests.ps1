# Invoke-KustomerUpsert under the conditions that must never lose or duplicate a row: server errors, lost create
# answers, a tight rate limit, and Ctrl+C.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1')
    Import-Module $env:KUSTOMERSYNC_MODULE_PATH -Force
    $script:Http = [System.Net.Http.HttpClient]::new()
    function script:Get-EmulatorJson([string] $BaseUri, [string] $Path) {
        $script:Http.GetStringAsync("$BaseUri$Path").GetAwaiter().GetResult() | ConvertFrom-Json -Depth 20
    }
    function script:New-Rows([int] $Count, [string] $Prefix) {
        1..$Count | ForEach-Object { [pscustomobject]@{ externalId = "$Prefix$_"; name = "Person $_"; email = "$Prefix$_@example.com"; tierStr = 'gold' } }
    }
    $env:KUSTOMERSYNC_UPSERT_KEY = 'emulator-key'
}

AfterAll {
    Get-KustomerDestination | ForEach-Object { Disconnect-KustomerDestination -Name $_.Name }
    $script:Http.Dispose()
}

Describe 'Invoke-KustomerUpsert against faults' {
    BeforeAll {
        $script:Faulty = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0', '--fault-5xx-rate', '0.1', '--fault-lost-create-rate', '0.2', '--seed', '11'
        Connect-KustomerDestination -BaseUri $script:Faulty.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_UPSERT_KEY -Name faulty
    }
    AfterAll { Stop-KustomerEmulator $script:Faulty }

    It 'reports every row once and never creates a duplicate' {
        $results = @(New-Rows 150 'f-' | Invoke-KustomerUpsert -Object Customer -Destination faulty -SummaryVariable summary -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        $results.Count | Should -Be 150
        ($results.Row | Sort-Object -Unique).Count | Should -Be 150
        $summary.Total | Should -Be 150
        $summary.Created + $summary.Failed | Should -Be 150
        $summary.Retries | Should -BeGreaterThan 0
        $stored = @((Get-EmulatorJson $script:Faulty.BaseUri '/_emulator/state').customers.items.attributes.externalId)
        ($stored | Sort-Object -Unique).Count | Should -Be $stored.Count
        $results | Where-Object Status -EQ 'Created' | ForEach-Object { $stored | Should -Contain $_.Key }
    }
}

Describe 'Invoke-KustomerUpsert under a tight rate limit' {
    BeforeAll {
        $script:Limited = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '50', '--rate-window-seconds', '2'
        Connect-KustomerDestination -BaseUri $script:Limited.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_UPSERT_KEY -Name limited
    }
    AfterAll { Stop-KustomerEmulator $script:Limited }

    # How few 429s the pacing draws is judged on a fake clock (UpsertRunTests.A_tight_rate_limit_is_paced_without_losing_rows):
    # here the emulator's windows run on the wall clock, so only what cannot depend on timing is checked.
    It 'keeps to a tight rate limit through the module and loses nothing' {
        New-Rows 80 'r-' | Invoke-KustomerUpsert -Object Customer -Destination limited -SummaryVariable summary | Out-Null
        $summary.Created | Should -Be 80
        $summary.Failed | Should -Be 0
        (Get-EmulatorJson $script:Limited.BaseUri '/_emulator/state').customers.count | Should -Be 80
    }
}

Describe 'Planning with -WhatIf' {
    BeforeAll {
        $script:Plain = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0'
        Connect-KustomerDestination -BaseUri $script:Plain.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_UPSERT_KEY -Name plain
    }
    AfterAll { Stop-KustomerEmulator $script:Plain }

    It 'creates no state file and writes nothing' {
        $state = Join-Path ([System.IO.Path]::GetTempPath()) "whatif-$([guid]::NewGuid().ToString('N')).db"
        New-Rows 5 'w-' | Invoke-KustomerUpsert -Object Customer -Destination plain -StatePath $state -WhatIf -SummaryVariable summary | Out-Null
        $summary.WouldCreate | Should -Be 5
        Test-Path $state | Should -BeFalse
        (Get-EmulatorJson $script:Plain.BaseUri '/_emulator/state').customers.count | Should -Be 0
    }
}

Describe 'Stopping a run' {
    BeforeAll {
        $script:Slow = Start-KustomerEmulator -EmulatorDll $env:KUSTOMERSYNC_EMULATOR_DLL -Arguments '--rate-limit', '0', '--latency-ms', '100'
        # A stopping pipeline takes no more records, so the cmdlet's Ctrl+C warning goes to the host, as at a console:
        # this host keeps the warnings it is given.
        Add-Type -TypeDefinition @'
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
public sealed class WarningKeepingHost : PSHost
{
    private readonly Guid _id = Guid.NewGuid();
    private readonly WarningKeepingUI _ui = new WarningKeepingUI();
    public string[] Warnings { get { return _ui.Warnings.ToArray(); } }
    public override CultureInfo CurrentCulture { get { return CultureInfo.InvariantCulture; } }
    public override CultureInfo CurrentUICulture { get { return CultureInfo.InvariantCulture; } }
    public override Guid InstanceId { get { return _id; } }
    public override string Name { get { return "WarningKeepingHost"; } }
    public override Version Version { get { return new Version(1, 0); } }
    public override PSHostUserInterface UI { get { return _ui; } }
    public override void EnterNestedPrompt() { throw new NotSupportedException(); }
    public override void ExitNestedPrompt() { throw new NotSupportedException(); }
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }
}
public sealed class WarningKeepingUI : PSHostUserInterface
{
    public readonly ConcurrentQueue<string> Warnings = new ConcurrentQueue<string>();
    public override PSHostRawUserInterface RawUI { get { return null; } }
    public override void WriteWarningLine(string message) { Warnings.Enqueue(message); }
    public override void Write(string value) { }
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) { }
    public override void WriteLine(string value) { }
    public override void WriteErrorLine(string value) { }
    public override void WriteDebugLine(string message) { }
    public override void WriteVerboseLine(string message) { }
    public override void WriteProgress(long sourceId, ProgressRecord record) { }
    public override string ReadLine() { throw new NotSupportedException(); }
    public override SecureString ReadLineAsSecureString() { throw new NotSupportedException(); }
    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) { throw new NotSupportedException(); }
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) { throw new NotSupportedException(); }
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) { throw new NotSupportedException(); }
    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) { throw new NotSupportedException(); }
}
'@
    }
    AfterAll { Stop-KustomerEmulator $script:Slow }

    It 'stops cleanly on Ctrl+C, warns and records the run as Cancelled with how far it got, and keeps what Kustomer confirmed' {
        $state = Join-Path ([System.IO.Path]::GetTempPath()) "stop-$([guid]::NewGuid().ToString('N')).db"
        $host2 = [WarningKeepingHost]::new()
        $runspace = [runspacefactory]::CreateRunspace($host2)
        $runspace.Open()
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $BaseUri, $State)
                    Import-Module $ModulePath
                    Connect-KustomerDestination -BaseUri $BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_UPSERT_KEY
                    1..2000 | ForEach-Object { [pscustomobject]@{ externalId = "s-$_"; name = "Slow $_" } } |
                        Invoke-KustomerUpsert -Object Customer -StatePath $State -ThrottleLimit 4
                }).AddArgument($env:KUSTOMERSYNC_MODULE_PATH).AddArgument($script:Slow.BaseUri).AddArgument($state)
            $handle = $ps.BeginInvoke()
            # Stop once the run is under way, however long it takes to get there (a run that ends first is a failure).
            while ((Get-EmulatorJson $script:Slow.BaseUri '/_emulator/state').customers.count -lt 10) {
                # Between looks, wait on the run itself: its end (a failure here) ends the wait at once.
                if ($handle.AsyncWaitHandle.WaitOne(200)) { throw "The run ended before it could be stopped: $($ps.Streams.Error | Out-String)" }
            }
            $ps.Stop()
            $handle.IsCompleted | Should -BeTrue
        } finally {
            $ps.Dispose()
            $runspace.Dispose()
        }
        $created = (Get-EmulatorJson $script:Slow.BaseUri '/_emulator/state').customers.count
        $created | Should -BeGreaterThan 0
        $created | Should -BeLessThan 2000

        $stopped = '^Stopped after ([\d,]+) rows: ([\d,]+) written, ([\d,]+) unchanged, ([\d,]+) rejected(?:, ([\d,]+) not confirmed)?\. What Kustomer confirmed is kept; run again to continue\.$'
        $warnings = @($host2.Warnings)
        $warnings.Count | Should -Be 1
        $warnings[0] -match $stopped | Should -BeTrue -Because "the warning was: $($warnings[0])"
        $n = foreach ($group in 1..5) { if ($Matches.ContainsKey($group)) { [int]($Matches[$group] -replace ',') } else { 0 } }
        $n[0] | Should -BeGreaterThan 0
        $n[0] | Should -BeLessThan 2000
        $n[1] + $n[2] + $n[3] + $n[4] | Should -Be $n[0] -Because 'every row taken is written, unchanged, rejected or not confirmed'
        $n[1] | Should -BeGreaterThan 0
        $n[1] | Should -BeLessOrEqual $created -Because 'a row is reported written only once Kustomer confirmed it'

        $run = Get-KustomerSyncRun -StatePath $state | Select-Object -Last 1
        $run.Status | Should -Be 'Cancelled'
        $run.Message | Should -Match $stopped
        Remove-Item $state* -ErrorAction SilentlyContinue
    }
}
