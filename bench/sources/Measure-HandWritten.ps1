# One contender of Run-SourceBenchmark.ps1, in its own process: what admins write today — Npgsql loaded with
# Add-Type, a while ($reader.Read()) loop building [pscustomobject]s, piped to Measure-Object. Prints one JSON line.
param([string] $NpgsqlFolder, [string] $ConnectionString, [int] $Rows)
$ErrorActionPreference = 'Stop'
Add-Type -Path (Join-Path $NpgsqlFolder 'Npgsql.dll')
$query = "select id, big, amount, score, active, name, seen, born from bench_rows where id <= $Rows"
$watch = [Diagnostics.Stopwatch]::StartNew()
$count = & {
    $connection = [Npgsql.NpgsqlConnection]::new($ConnectionString)
    $connection.Open()
    try {
        $command = $connection.CreateCommand()
        $command.CommandText = $query
        $command.CommandTimeout = 0
        $reader = $command.ExecuteReader()
        while ($reader.Read()) {
            $row = [ordered]@{}
            for ($i = 0; $i -lt $reader.FieldCount; $i++) {
                $value = $reader.GetValue($i)
                $row[$reader.GetName($i)] = if ($value -is [DBNull]) { $null } else { $value }
            }
            [pscustomobject]$row
        }
        $reader.Dispose()
    } finally { $connection.Dispose() }
} | Measure-Object | ForEach-Object Count
$watch.Stop()
$peakKb = [long](((Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM:*' }) -split '\s+')[1])
[pscustomobject]@{ name = 'hand-written PowerShell ADO.NET loop'; rows = $count; seconds = [math]::Round($watch.Elapsed.TotalSeconds, 2)
    rowsPerSecond = [math]::Round($count / $watch.Elapsed.TotalSeconds); peakMB = [math]::Round($peakKb / 1024, 1) } | ConvertTo-Json -Compress
