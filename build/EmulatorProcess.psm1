# Starts and stops the Kustomer emulator as a child process on a free loopback port. Used by the demo and the
# Pester suites; xunit tests host the emulator in-process instead.

function Get-FreeLoopbackPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-KustomerEmulator {
    <#
    .SYNOPSIS
        Starts the emulator and waits for /health; returns an object with BaseUri and Process.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $EmulatorDll,
        [string[]] $Arguments = @(),
        [int] $TimeoutSeconds = 30
    )
    if (-not (Test-Path -LiteralPath $EmulatorDll)) { throw "The emulator is not built at '$EmulatorDll'. Run ./build.ps1 -Task Build." }
    $port = Get-FreeLoopbackPort
    $baseUri = "http://127.0.0.1:$port"
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $startInfo.ArgumentList.Add($EmulatorDll)
    $startInfo.ArgumentList.Add('--urls')
    $startInfo.ArgumentList.Add($baseUri)
    foreach ($argument in $Arguments) { $startInfo.ArgumentList.Add($argument) }
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($startInfo)
    # Drain both pipes so the emulator never blocks on a full buffer.
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not (Wait-KustomerEmulator -BaseUri $baseUri -Process $process -TimeoutSeconds $TimeoutSeconds)) {
        if ($process.HasExited) {
            throw "The emulator exited with code $($process.ExitCode): $($stderr.GetAwaiter().GetResult()) $($stdout.GetAwaiter().GetResult())"
        }
        $process.Kill()
        throw "The emulator did not answer $baseUri/health within $TimeoutSeconds s."
    }
    [pscustomobject]@{ BaseUri = $baseUri; Process = $process }
}

function Wait-KustomerEmulator {
    <#
    .SYNOPSIS
        Waits until the emulator answers /health: $true, or $false when the process exited or the time ran out.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $BaseUri,
        [Parameter(Mandatory)] [System.Diagnostics.Process] $Process,
        [int] $TimeoutSeconds = 30
    )
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    $client = [System.Net.Http.HttpClient]::new()
    try {
        while (-not $Process.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            try {
                $response = $client.GetAsync("$BaseUri/health").GetAwaiter().GetResult()
                if ($response.IsSuccessStatusCode) { return $true }
            } catch [System.Net.Http.HttpRequestException] {
                Write-Debug "Emulator not up yet: $($_.Exception.Message)"
            } catch [System.AggregateException] {
                Write-Debug "Emulator not up yet: $($_.Exception.Message)"
            }
            Start-Sleep -Milliseconds 100
        }
        return $false
    } finally {
        $client.Dispose()
    }
}

function Stop-KustomerEmulator {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    if ($Emulator -and -not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill($true)
        $Emulator.Process.WaitForExit(10000) | Out-Null
    }
}

Export-ModuleMember -Function Get-FreeLoopbackPort, Start-KustomerEmulator, Wait-KustomerEmulator, Stop-KustomerEmulator
