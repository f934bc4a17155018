<#
.SYNOPSIS
    The end-to-end demo behind `build.ps1 -Task Demo`: a sample SQLite database of customers synced into the
    local Kustomer emulator, twice.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $EmulatorDll,
    [Parameter(Mandatory)] [string] $WorkFolder
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'EmulatorProcess.psm1')
Import-Module $ModulePath -Force

if (Test-Path $WorkFolder) { Remove-Item $WorkFolder -Recurse -Force }
New-Item -ItemType Directory -Path $WorkFolder | Out-Null
$database = Join-Path $WorkFolder 'crm.db'
$source = "Data Source=$database"

Write-Host "`n== Sample source: $database" -ForegroundColor Cyan
# Get-SourceRows runs any statement; here it builds the sample CRM table (1,200 people from 40 x 30 names).
Get-SourceRows -Provider Sqlite -ConnectionString $source -Query @'
create table customers (
  id integer primary key, full_name text not null, email text not null, plan text, ltv numeric,
  opted_in integer, last_order_at text, updated_at text not null);
with
  first(n, i) as (values ('Ada',0),('Alan',1),('Grace',2),('Edsger',3),('Barbara',4),('Donald',5),('Margaret',6),('Ken',7),
    ('Frances',8),('Dennis',9),('Radia',10),('Tim',11),('Hedy',12),('Linus',13),('Katherine',14),('Guido',15),('Joan',16),
    ('Bjarne',17),('Sophie',18),('James',19),('Lynn',20),('John',21),('Mary',22),('Niklaus',23),('Anita',24),('Vint',25),
    ('Shafi',26),('Robert',27),('Evelyn',28),('Leslie',29),('Adele',30),('Claude',31),('Carol',32),('Ivan',33),('Jean',34),
    ('Alan',35),('Annie',36),('Brian',37),('Susan',38),('Andrew',39)),
  last(n, j) as (values ('Lovelace',0),('Turing',1),('Hopper',2),('Dijkstra',3),('Liskov',4),('Knuth',5),('Hamilton',6),
    ('Thompson',7),('Allen',8),('Ritchie',9),('Perlman',10),('Berners-Lee',11),('Lamarr',12),('Torvalds',13),('Johnson',14),
    ('van Rossum',15),('Clarke',16),('Stroustrup',17),('Wilson',18),('Gosling',19),('Conway',20),('McCarthy',21),('Keller',22),
    ('Wirth',23),('Borg',24),('Cerf',25),('Goldwasser',26),('Kahn',27),('Berezin',28),('Lamport',29))
insert into customers (id, full_name, email, plan, ltv, opted_in, last_order_at, updated_at)
select 1000 + j * 40 + i, first.n || ' ' || last.n,
       lower(replace(first.n || '.' || last.n, ' ', '')) || (1000 + j * 40 + i) || '@example.com',
       case (i + j) % 3 when 0 then 'gold' when 1 then 'silver' else 'bronze' end,
       round(((i * 37 + j * 101) % 5000) + ((i + j) % 100) / 100.0, 2),
       (i + j) % 2, datetime('2026-01-01', '+' || (i * 30 + j) || ' hours'), datetime('now')
from first cross join last;
'@ | Out-Null
$count = Get-SourceRows -Provider Sqlite -ConnectionString $source -Query 'select count(*) as n from customers'
Write-Host "$($count.n) customers in the sample database."

# The emulator's rate limit is off so the demo runs in seconds; the client paces itself from the headers when it is on.
$emulator = Start-KustomerEmulator -EmulatorDll $EmulatorDll -Arguments '--rate-limit', '0'
try {
    Write-Host "`n== Kustomer emulator at $($emulator.BaseUri)" -ForegroundColor Cyan
    $env:KUSTOMERSYNC_DEMO_KEY = 'emulator-key'
    Connect-KustomerDestination -BaseUri $emulator.BaseUri -ApiKeyEnvironmentVariable KUSTOMERSYNC_DEMO_KEY -Name demo
    Test-KustomerConnection | Format-List Destination, Succeeded, Message | Out-Host

    $query = @'
select id as externalId, full_name as name, email, plan as tierStr, ltv as lifetimeValueNum,
       opted_in as optInBool, last_order_at as lastOrderAt
from customers where updated_at >= @since order by id
'@
    $state = Join-Path $WorkFolder 'customers.state.db'
    $sync = {
        param([string] $Title)
        Write-Host "`n== $Title" -ForegroundColor Cyan
        # The output holds only results; the summary line goes to the host and the object to $summary.
        $results = Get-SourceRows -Provider Sqlite -ConnectionString $source -Query $query -Parameters @{ since = '2000-01-01' } |
            Invoke-KustomerUpsert -Object Customer -SyncKey ExternalId -StatePath $state -ReportKeysLeft -SummaryVariable summary
        $results | Where-Object Status -NE 'Unchanged' | Select-Object -First 3 | Format-Table | Out-Host
        if ($summary.Total -ne $count.n -or $summary.Invalid -gt 0 -or $summary.Failed -gt 0) {
            throw "$Title did not sync every row cleanly: $($summary.Total) rows, $($summary.Invalid) invalid, $($summary.Failed) failed."
        }
        $summary
    }

    $first = & $sync 'Run 1: every customer is new'
    if ($first.Created -ne $count.n) { throw "Run 1 created $($first.Created) of $($count.n) customers." }

    $second = & $sync 'Run 2: nothing changed, so nothing is sent'
    if ($second.Unchanged -ne $count.n -or $second.Requests -ne 0) { throw "Run 2 sent $($second.Requests) requests for an unchanged table." }

    Get-SourceRows -Provider Sqlite -ConnectionString $source -Query "update customers set plan = 'platinum', updated_at = datetime('now') where id % 50 = 0" | Out-Null
    $changed = (Get-SourceRows -Provider Sqlite -ConnectionString $source -Query "select count(*) as n from customers where id % 50 = 0").n
    Write-Host "`nChanged the plan of $changed customers in the source." -ForegroundColor Cyan
    $third = & $sync "Run 3: only the $changed changed customers are updated"
    if ($third.Updated -ne $changed -or $third.Unchanged -ne $count.n - $changed) { throw "Run 3 updated $($third.Updated) customers; $changed changed." }

    Write-Host "`n== Run history (Get-KustomerSyncRun)" -ForegroundColor Cyan
    Get-KustomerSyncRun -StatePath $state | Format-Table | Out-Host
} finally {
    Stop-KustomerEmulator $emulator
}
Write-Host 'Demo finished.' -ForegroundColor Green
