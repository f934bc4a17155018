# Starts real Postgres and MariaDB servers for the provider and state-store tests on free loopback ports, and
# publishes their connection strings in environment variables:
#   KUSTOMERSYNC_TEST_POSTGRES  Host=127.0.0.1;Port=...;Username=postgres;Database=postgres
#   KUSTOMERSYNC_TEST_MYSQL     Server=127.0.0.1;Port=...;User ID=root;Database=test
# Their data folders and sockets live in a folder made for this run under /tmp, not in the clone: as root the
# servers run as their service users (initdb refuses root), and those users cannot enter a clone that sits in a
# private folder (a home directory, a `mktemp -d` folder). Stop-TestServers stops them and removes that folder;
# folders left by a run that died are cleaned up by the next Start-TestServers.

Import-Module (Join-Path $PSScriptRoot '../../build/EmulatorProcess.psm1') -Function Get-FreeLoopbackPort

$script:Prefix = 'kustomersync-test-servers-'
$script:Session = $null

function Test-Root { (& id -u) -eq '0' }

function Invoke-Quiet {
    param([string] $Command, [string[]] $Arguments)
    $output = & $Command @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "'$Command $($Arguments -join ' ')' failed ($LASTEXITCODE): $($output -join [Environment]::NewLine)" }
}

function Invoke-AsUser {
    # Runs a shell command as $User (root only) or as the invoking user, from $Folder: a service user cannot
    # change into the caller's working directory when that is the private clone.
    param([string] $User, [string] $Folder, [string] $Command)
    $line = "cd '$Folder' && $Command"
    if ($User) { Invoke-Quiet runuser @('-u', $User, '--', 'sh', '-c', $line) } else { Invoke-Quiet sh @('-c', $line) }
}

function Test-ServerFolderInUse {
    # The run that made a folder holds its 'owner' file open with an exclusive lock until it stops; the kernel drops
    # that lock when the process dies, however it dies. A run of an earlier version of this module wrote only its
    # pid there and held no lock, so a live pid also counts.
    param([System.IO.DirectoryInfo] $Folder)
    $ownerFile = Join-Path $Folder.FullName 'owner'
    if (-not (Test-Path -LiteralPath $ownerFile)) { return $Folder.CreationTimeUtc -gt [DateTime]::UtcNow.AddHours(-1) } # being made
    try {
        $probe = [System.IO.File]::Open($ownerFile, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::None)
    } catch [System.IO.IOException], [System.UnauthorizedAccessException] {
        return $true
    }
    try { $text = [System.IO.StreamReader]::new($probe).ReadToEnd() } finally { $probe.Dispose() }
    $ownerPid = 0
    [int]::TryParse(($text.Trim() -split ' ')[0], [ref] $ownerPid) -and $ownerPid -gt 0 -and $null -ne (Get-Process -Id $ownerPid -ErrorAction SilentlyContinue)
}

function Remove-StaleServerFolders {
    # Folders of earlier runs whose process is gone (killed, crashed): stop what still runs there, then delete.
    # Folders of runs still alive (another clone testing on this machine) are left alone.
    param([string] $Base, [string] $PostgresBin)
    foreach ($folder in Get-ChildItem -LiteralPath $Base -Directory -Filter "$script:Prefix*" -ErrorAction SilentlyContinue) {
        if (Test-ServerFolderInUse $folder) { continue }
        $pgData = Join-Path $folder.FullName 'postgres/data'
        if ($PostgresBin -and (Test-Path -LiteralPath (Join-Path $pgData 'postmaster.pid'))) {
            try {
                Invoke-AsUser -User $(if (Test-Root) { 'postgres' }) -Folder $folder.FullName -Command "'$PostgresBin/pg_ctl' -D '$pgData' -m immediate -w stop"
            } catch { Write-Warning "A stale test Postgres in $($folder.FullName) did not stop: $_" }
        }
        $mariaPid = Join-Path $folder.FullName 'mariadb/pid'
        if (Test-Path -LiteralPath $mariaPid) {
            $process = Get-Process -Id ([int](Get-Content -LiteralPath $mariaPid -Raw).Trim()) -ErrorAction SilentlyContinue
            if ($process -and $process.ProcessName -in 'mariadbd', 'mysqld') { $process.Kill(); $process.WaitForExit(30000) | Out-Null }
        }
        Remove-Item -LiteralPath $folder.FullName -Recurse -Force -ErrorAction SilentlyContinue
        Write-Host "Removed the test servers' folder of an earlier run that did not end: $($folder.FullName)" -ForegroundColor DarkGray
    }
}

function Find-PostgresBin {
    $candidates = Get-ChildItem '/usr/lib/postgresql/*/bin/pg_ctl' -ErrorAction SilentlyContinue | Sort-Object FullName -Descending
    if ($candidates) { return Split-Path $candidates[0].FullName }
    $null
}

function Find-MariaDb {
    $server = Get-Command mariadbd, mysqld -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $server) {
        foreach ($path in '/usr/sbin/mariadbd', '/usr/sbin/mysqld') { if (Test-Path $path) { $server = Get-Command $path; break } }
    }
    $install = Get-Command mariadb-install-db, mysql_install_db -ErrorAction SilentlyContinue | Select-Object -First 1
    $admin = Get-Command mariadb-admin, mysqladmin -ErrorAction SilentlyContinue | Select-Object -First 1
    $client = Get-Command mariadb, mysql -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not ($server -and $install -and $admin -and $client)) { return $null }
    [pscustomobject]@{ Server = $server.Source; Install = $install.Source; Admin = $admin.Source; Client = $client.Source }
}

function New-ServiceFolder {
    # A folder the service user owns (as root), inside the run's folder (mode 755, so that user can pass through).
    param([string] $Path, [string] $User)
    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    if ($User) { Invoke-Quiet chown @("${User}:${User}", $Path) }
    Invoke-Quiet chmod @('700', $Path)
}

function Start-TestPostgres {
    param([string] $Bin, [string] $Folder, $Server)
    $user = if (Test-Root) { 'postgres' } else { $null }
    New-ServiceFolder -Path $Folder -User $user
    $data = Join-Path $Folder 'data'
    $port = Get-FreeLoopbackPort
    Invoke-AsUser -User $user -Folder $Folder -Command "'$Bin/initdb' -D '$data' -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8"
    # Every login is trusted except the role ksync_pw, which must give its password (scram-sha-256): the source
    # tests create that role to prove that a wrong password is reported as an authentication error.
    $hba = Join-Path $data 'pg_hba.conf'
    $lines = @('host all ksync_pw 127.0.0.1/32 scram-sha-256') + @(Get-Content $hba)
    Set-Content -Path $hba -Value $lines
    $Server.Stop = @{ User = $user; Folder = $Folder; Command = "'$Bin/pg_ctl' -D '$data' -m fast -w stop" }
    Invoke-AsUser -User $user -Folder $Folder -Command ("'$Bin/pg_ctl' -D '$data' -w -t 300 -l '$Folder/log' -o " +
        "'-p $port -k $Folder -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off' start")
    $Server.Value = "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    $Server.Where = "127.0.0.1:$port, data and socket in $Folder, running as $(if ($user) { $user } else { [Environment]::UserName }) ($Bin)"
}

function Start-TestMariaDb {
    param($Tools, [string] $Folder, $Server)
    $asRoot = Test-Root
    $user = if ($asRoot) { 'mysql' } else { [Environment]::UserName }
    New-ServiceFolder -Path $Folder -User $(if ($asRoot) { $user })
    $data = Join-Path $Folder 'data'
    $socket = Join-Path $Folder 'sock'
    $log = Join-Path $Folder 'log'
    Push-Location $Folder
    try {
        Invoke-Quiet $Tools.Install @("--user=$user", "--datadir=$data", '--auth-root-authentication-method=normal', '--skip-test-db')
    } finally { Pop-Location }
    $port = Get-FreeLoopbackPort
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new($Tools.Server)
    foreach ($a in "--user=$user", "--datadir=$data", '--bind-address=127.0.0.1', "--port=$port", "--socket=$socket",
        "--log-error=$log", '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0', '--innodb-doublewrite=0', "--pid-file=$Folder/pid") {
        $startInfo.ArgumentList.Add($a)
    }
    $startInfo.UseShellExecute = $false
    $startInfo.WorkingDirectory = $Folder
    $process = [System.Diagnostics.Process]::Start($startInfo)
    $admin = $Tools.Admin
    $Server.Stop = @{ Admin = $admin; Socket = $socket; Process = $process }
    # A guard against a server that hangs, not a measure of speed: a busy machine may take a while.
    $deadline = [DateTime]::UtcNow.AddMinutes(5)
    while ($true) {
        & $admin "--socket=$socket" -uroot ping 2>&1 | Out-Null
        if ($LASTEXITCODE -eq 0) { break }
        if ($process.HasExited -or [DateTime]::UtcNow -gt $deadline) {
            throw "MariaDB did not start: $(Get-Content $log -Raw -ErrorAction SilentlyContinue)"
        }
        Start-Sleep -Milliseconds 200
    }
    Invoke-Quiet $Tools.Client @("--socket=$socket", '-uroot', '-e', "CREATE DATABASE IF NOT EXISTS test; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;")
    $Server.Value = "Server=127.0.0.1;Port=$port;User ID=root;Database=test"
    $Server.Where = "127.0.0.1:$port, data and socket in $Folder, running as $user ($($Tools.Server))"
}

function Stop-TestServer {
    param($Server)
    $how = $Server.Stop
    if ($how.Command) {
        Invoke-AsUser -User $how.User -Folder $how.Folder -Command $how.Command
        return
    }
    & $how.Admin "--socket=$($how.Socket)" -uroot shutdown 2>&1 | Out-Null
    if (-not $how.Process.WaitForExit(60000)) { $how.Process.Kill(); $how.Process.WaitForExit(10000) | Out-Null }
}

function Start-TestServers {
    <#
    .SYNOPSIS
        Starts Postgres and MariaDB in a fresh folder under /tmp and sets their KUSTOMERSYNC_TEST_* variables.
    .PARAMETER Folder
        Where to make the run's folder instead of /tmp (the system temp folder when not root). As root, the
        service users must be able to pass through it.
    .DESCRIPTION
        Says on one line each where the folder is and what started where. Returns what the test summary needs:
        Missing (servers not installed: their tests are skipped; under CI=true each is also a problem) and
        Problems (servers that are installed but did not start). Nothing is thrown: call Stop-TestServers in a
        finally block whatever happens.
    #>
    [CmdletBinding()]
    param([string] $Folder)
    if ($script:Session) { Stop-TestServers }
    $asRoot = Test-Root
    # As root the servers run as their service users, who need a path they can pass through: /tmp, whatever TMPDIR says.
    $base = if ($Folder) { New-Item -ItemType Directory -Path $Folder -Force | Select-Object -ExpandProperty FullName }
            elseif ($asRoot) { '/tmp' } else { [System.IO.Path]::GetTempPath() }
    $postgresBin = Find-PostgresBin
    $mariaDb = Find-MariaDb
    Remove-StaleServerFolders -Base $base -PostgresBin $postgresBin

    $runFolder = Join-Path $base ($script:Prefix + [System.IO.Path]::GetRandomFileName().Replace('.', ''))
    New-Item -ItemType Directory -Path $runFolder | Out-Null
    Invoke-Quiet chmod @($(if ($asRoot) { '755' } else { '700' }), $runFolder)
    $lock = [System.IO.File]::Open((Join-Path $runFolder 'owner'), [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::ReadWrite, [System.IO.FileShare]::None)
    $stamp = [System.Text.Encoding]::ASCII.GetBytes("$PID")
    $lock.Write($stamp, 0, $stamp.Length)
    $lock.Flush()
    $script:Session = [pscustomobject]@{ Folder = $runFolder; Lock = $lock; Started = [System.Collections.Generic.List[object]]::new() }
    Write-Host "Test servers' folder: $runFolder (removed when the tests end)" -ForegroundColor DarkGray

    $strict = $env:CI -eq 'true'
    $missing = [System.Collections.Generic.List[object]]::new()
    $problems = [System.Collections.Generic.List[string]]::new()
    foreach ($entry in @(
            [pscustomobject]@{ Name = 'Postgres'; Variable = 'KUSTOMERSYNC_TEST_POSTGRES'; Hint = 'apt-get install postgresql'; Installed = [bool]$postgresBin
                Start = { param($server) Start-TestPostgres -Bin $postgresBin -Folder (Join-Path $runFolder 'postgres') -Server $server } },
            [pscustomobject]@{ Name = 'MariaDB'; Variable = 'KUSTOMERSYNC_TEST_MYSQL'; Hint = 'apt-get install mariadb-server'; Installed = [bool]$mariaDb
                Start = { param($server) Start-TestMariaDb -Tools $mariaDb -Folder (Join-Path $runFolder 'mariadb') -Server $server } })) {
        [Environment]::SetEnvironmentVariable($entry.Variable, $null)
        if (-not $entry.Installed) {
            $missing.Add($entry)
            if ($strict) { $problems.Add("CI=true and $($entry.Name) is not installed ($($entry.Hint)).") }
            Write-Host "$($entry.Name) not installed ($($entry.Hint)): $(if ($strict) { 'a failure under CI=true' } else { 'its tests are skipped' })." -ForegroundColor Yellow
            continue
        }
        $server = [pscustomobject]@{ Name = $entry.Name; Variable = $entry.Variable; Value = $null; Where = $null; Stop = $null }
        try {
            & $entry.Start $server
        } catch {
            $problems.Add("$($entry.Name) is installed but did not start: $_")
            Write-Host "$($entry.Name) did not start: $_" -ForegroundColor Red
            if ($server.Stop) { $script:Session.Started.Add($server) }
            continue
        }
        $script:Session.Started.Add($server)
        [Environment]::SetEnvironmentVariable($server.Variable, $server.Value)
        Write-Host "$($server.Name) started for the tests: $($server.Where)" -ForegroundColor DarkGray
    }
    [pscustomobject]@{ Folder = $runFolder; Missing = $missing.ToArray(); Problems = $problems.ToArray() }
}

function Stop-TestServers {
    <#
    .SYNOPSIS
        Stops what Start-TestServers started, clears the variables and removes the servers' folder.
    #>
    [CmdletBinding()]
    param()
    if (-not $script:Session) { return }
    $stopped = foreach ($server in $script:Session.Started) {
        try { Stop-TestServer $server; $server.Name } catch { Write-Warning "Stopping $($server.Name) failed: $_" }
        [Environment]::SetEnvironmentVariable($server.Variable, $null)
    }
    Remove-Item -LiteralPath $script:Session.Folder -Recurse -Force -ErrorAction SilentlyContinue
    $script:Session.Lock.Dispose()
    $left = if (Test-Path -LiteralPath $script:Session.Folder) { "; could not remove $($script:Session.Folder)" } else { "; removed $($script:Session.Folder)" }
    Write-Host "Test servers stopped: $(if ($stopped) { @($stopped) -join ', ' } else { 'none were running' })$left" -ForegroundColor DarkGray
    $script:Session = $null
}

Export-ModuleMember -Function Start-TestServers, Stop-TestServers
