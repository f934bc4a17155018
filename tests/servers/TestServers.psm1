# Starts real Postgres and MariaDB servers for the provider and state-store tests, each in a private data folder
# on a free loopback port, and publishes their connection strings in environment variables:
#   KUSTOMERSYNC_TEST_POSTGRES  Host=127.0.0.1;Port=...;Username=postgres;Database=postgres
#   KUSTOMERSYNC_TEST_MYSQL     Server=127.0.0.1;Port=...;User ID=root;Database=test
# A server that is not installed is skipped with a warning, or is a failure when CI=true.

Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1') -Function Get-FreeLoopbackPort

$script:Started = [System.Collections.Generic.List[object]]::new()

function Find-PostgresBin {
    $candidates = Get-ChildItem '/usr/lib/postgresql/*/bin/pg_ctl' -ErrorAction SilentlyContinue | Sort-Object FullName -Descending
    if ($candidates) { return Split-Path $candidates[0].FullName }
    $null
}

function Invoke-Quiet {
    param([string] $Command, [string[]] $Arguments)
    $output = & $Command @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed ($LASTEXITCODE): $($output -join [Environment]::NewLine)" }
}

function Start-TestPostgres {
    param([string] $Folder)
    $bin = Find-PostgresBin
    if (-not $bin) { return $null }
    $data = Join-Path $Folder 'pgdata'
    if (Test-Path $Folder) { Remove-Item $Folder -Recurse -Force }
    New-Item -ItemType Directory -Path $Folder -Force | Out-Null
    $port = Get-FreeLoopbackPort
    $asRoot = (& id -u) -eq '0'
    if ($asRoot) { Invoke-Quiet chown @('-R', 'postgres:postgres', $Folder) }
    $initdb = "$bin/initdb -D '$data' -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8"
    $start = "$bin/pg_ctl -D '$data' -w -l '$Folder/log' -o '-p $port -k $Folder -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start"
    if ($asRoot) { Invoke-Quiet su @('postgres', '-c', $initdb) } else { Invoke-Quiet sh @('-c', $initdb) }
    # Every login is trusted except the role ksync_pw, which must give its password (scram-sha-256): the source
    # tests create that role to prove that a wrong password is reported as an authentication error.
    $hba = Join-Path $data 'pg_hba.conf'
    $lines = @('host all ksync_pw 127.0.0.1/32 scram-sha-256') + @(Get-Content $hba)
    Set-Content -Path $hba -Value $lines
    if ($asRoot) { Invoke-Quiet su @('postgres', '-c', $start) } else { Invoke-Quiet sh @('-c', $start) }
    $stop = "$bin/pg_ctl -D '$data' -m fast -w stop"
    [pscustomobject]@{
        Name     = 'Postgres'
        Variable = 'KUSTOMERSYNC_TEST_POSTGRES'
        Value    = "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
        Stop     = if ($asRoot) { { param($s) & su postgres -c $s 2>&1 | Out-Null }.GetNewClosure() } else { { param($s) & sh -c $s 2>&1 | Out-Null } }
        StopArgs = $stop
    }
}

function Start-TestMariaDb {
    param([string] $Folder)
    $server = Get-Command mariadbd, mysqld -ErrorAction SilentlyContinue | Select-Object -First 1
    $install = Get-Command mariadb-install-db, mysql_install_db -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $server) {
        foreach ($path in '/usr/sbin/mariadbd', '/usr/sbin/mysqld') { if (Test-Path $path) { $server = Get-Command $path; break } }
    }
    if (-not $server -or -not $install) { return $null }
    if (Test-Path $Folder) { Remove-Item $Folder -Recurse -Force }
    $data = Join-Path $Folder 'data'
    New-Item -ItemType Directory -Path $data -Force | Out-Null
    $asRoot = (& id -u) -eq '0'
    $user = if ($asRoot) { 'mysql' } else { [Environment]::UserName }
    if ($asRoot) { Invoke-Quiet chown @('-R', 'mysql:mysql', $Folder) }
    Invoke-Quiet $install.Source @("--user=$user", "--datadir=$data", '--auth-root-authentication-method=normal', '--skip-test-db')
    $port = Get-FreeLoopbackPort
    $socket = Join-Path $Folder 'sock'
    $log = Join-Path $Folder 'log'
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($server.Source)
    foreach ($a in "--user=$user", "--datadir=$data", '--bind-address=127.0.0.1', "--port=$port", "--socket=$socket",
        "--log-error=$log", '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', "--pid-file=$Folder/pid") {
        $startInfo.ArgumentList.Add($a)
    }
    $startInfo.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($startInfo)
    $admin = Get-Command mariadb-admin, mysqladmin -ErrorAction SilentlyContinue | Select-Object -First 1
    $client = Get-Command mariadb, mysql -ErrorAction SilentlyContinue | Select-Object -First 1
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    while ($true) {
        & $admin.Source "--socket=$socket" -uroot ping 2>&1 | Out-Null
        if ($LASTEXITCODE -eq 0) { break }
        if ($process.HasExited -or [DateTime]::UtcNow -gt $deadline) {
            throw "MariaDB did not start: $(Get-Content $log -Raw -ErrorAction SilentlyContinue)"
        }
        Start-Sleep -Milliseconds 200
    }
    Invoke-Quiet $client.Source @("--socket=$socket", '-uroot', '-e', "CREATE DATABASE IF NOT EXISTS test; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;")
    [pscustomobject]@{
        Name     = 'MariaDB'
        Variable = 'KUSTOMERSYNC_TEST_MYSQL'
        Value    = "Server=127.0.0.1;Port=$port;User ID=root;Database=test"
        Stop     = { param($s) & $s[0] "--socket=$($s[1])" -uroot shutdown 2>&1 | Out-Null }
        StopArgs = @($admin.Source, $socket)
    }
}

function Start-TestServers {
    <#
    .SYNOPSIS
        Starts Postgres and MariaDB under -Folder and sets their KUSTOMERSYNC_TEST_* variables.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] [string] $Folder)
    $strict = $env:CI -eq 'true'
    foreach ($entry in @(
            @{ Name = 'Postgres'; Start = { Start-TestPostgres -Folder (Join-Path $Folder 'postgres') }; Hint = 'apt-get install -y postgresql' },
            @{ Name = 'MariaDB'; Start = { Start-TestMariaDb -Folder (Join-Path $Folder 'mariadb') }; Hint = 'apt-get install -y mariadb-server' })) {
        $server = & $entry.Start
        if ($null -eq $server) {
            $message = "$($entry.Name) is not installed ($($entry.Hint)); its tests will be skipped."
            if ($strict) { throw "CI=true and $message" }
            Write-Warning $message
            continue
        }
        [Environment]::SetEnvironmentVariable($server.Variable, $server.Value)
        $script:Started.Add($server)
        Write-Host "$($server.Name) for tests: $($server.Value)" -ForegroundColor DarkGray
    }
}

function Stop-TestServers {
    [CmdletBinding()]
    param()
    foreach ($server in $script:Started) {
        try { & $server.Stop $server.StopArgs } catch { Write-Warning "Stopping $($server.Name) failed: $_" }
        [Environment]::SetEnvironmentVariable($server.Variable, $null)
    }
    $script:Started.Clear()
}

Export-ModuleMember -Function Start-TestServers, Stop-TestServers
