# What the definition-run suites (Alerts, Automation) build the same way: an emulator key file with the roles Census
# asks for, and a SQLite table of people of which the first few have an email Kustomer cannot take.

function New-EmulatorKeyFile {
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $Key)
    $path = Join-Path $Folder 'keys.json'
    @{ keys = @(@{ key = $Key; name = 'test key'; roles = @('org.admin.klass.read', 'org.user.kobject.read', 'org.admin.metadata.read',
                    'org.admin.search.read', 'org.user.customer.write', 'org.user.kobject.write', 'org.permission.customer', 'org.permission.company') }) } |
        ConvertTo-Json -Depth 5 | Set-Content $path
    $path
}

function New-SqlitePeople {
    # Table people (id, full_name, email) of $Rows rows keyed "$Prefix-<n>"; rows 1 to $BadEmails have an invalid email.
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Prefix, [int] $Rows, [int] $BadEmails)
    Get-SourceRows -Provider Sqlite -ConnectionString "Data Source=$Path" -Query @"
create table people (id text, full_name text, email text);
with recursive n(i) as (select 1 union all select i + 1 from n where i < $Rows)
insert into people select '$Prefix-' || i, 'Person ' || i, case when i <= $BadEmails then 'not-an-email-' || i else '$Prefix.' || i || '@example.com' end from n
"@ | Out-Null
}

Export-ModuleMember -Function New-EmulatorKeyFile, New-SqlitePeople
