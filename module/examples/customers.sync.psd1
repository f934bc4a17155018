# A KustomerSync sync definition: run it with
#     Invoke-KustomerSync -Path ./customers.sync.psd1
# or, from a scheduler,
#     pwsh -NoProfile -NonInteractive -File ./Invoke-ScheduledSync.ps1 -Path ./customers.sync.psd1
#
# The file is DATA: it is parsed, never run. Strings (single quotes), numbers, $true/$false/$null, hashtables
# and arrays only; variables such as $env:X are refused. The exception is a Mapping value, which may be a
# scriptblock: that code DOES run, as the account that runs the sync. Keep this file where only the sync's
# administrators can change it, as you would a script.
#
# Secrets are never written here: each setting names WHERE a secret comes from (an environment variable, an Azure
# Automation variable or credential, a SecretManagement vault). Relative paths are relative to this file's folder.
# Every setting is checked before anything is connected to; each mistake is reported with the setting's name.
@{
    # The sync's name: its state, lease (one run at a time) and run history are kept under it.
    Name        = 'customers'

    # Optional: for people reading the file.
    Description = 'CRM customers to Kustomer, every morning at 6'

    Source      = @{
        # SqlServer, Postgres, Redshift, MySql, Sqlite, Snowflake, Databricks, BigQuery, Elasticsearch, GoogleSheets.
        Provider                            = 'Postgres'

        # The connection string: exactly one of these four.
        #   ConnectionString                   written here (no password in it: the file refuses one)
        #   ConnectionStringEnvironmentVariable  the name of an environment variable holding it
        #   ConnectionStringAutomationVariable   an Azure Automation variable (runbooks only)
        #   ConnectionStringSecret               a SecretManagement secret (Get-Secret), from SecretVault if given
        ConnectionString                    = 'Host=crm-db.corp.local;Port=5432;Database=crm;Username=kustomer_sync;SSL Mode=Require'

        # The password (merged into the connection string with UserName), at most one of:
        #   PasswordEnvironmentVariable, PasswordAutomationVariable, PasswordSecret, or
        #   AutomationCredential (an Azure Automation credential: it brings its own user name, so no UserName then).
        # UserName = 'kustomer_sync'
        PasswordEnvironmentVariable         = 'CRM_DB_PASSWORD'

        # The vault for *Secret settings of this section (optional: Get-Secret searches every registered vault).
        # SecretVault = 'CorpVault'

        # The rows to sync. Name the columns like Kustomer fields (externalId, name, email, phone, ...) or custom
        # attributes (tierStr, lifetimeValueNum, ...), or map them below. Or QueryPath = 'customers.sql'.
        Query                               = @'
select id::text     as "externalId",
       full_name    as name,
       email,
       phone,
       plan         as "tierStr",
       ltv          as "lifetimeValueNum"
from crm.customers
where updated_at > @since
'@

        # Query parameters, bound as real parameters (never pasted into the SQL). '$LastRunStart' is replaced by the
        # start time (UTC) of the last successful run of this sync, so the query returns only what changed since.
        Parameters                          = @{ since = '$LastRunStart' }

        # What '$LastRunStart' is on the first run and under -FullSync (ISO 8601, UTC unless an offset is given).
        FirstRunStart                       = '2000-01-01'

        # Seconds the query may run (0: no limit). Default 300.
        CommandTimeout                      = 600

        # Only for PushDown: the query column that carries the sync key, when it is not the mapped one.
        # KeyColumn = 'externalId'
    }

    Destination = @{
        # The Kustomer organization (the subdomain of <org>.kustomerapp.com) with an optional Region (US, EU, IN),
        # or BaseUri instead (https, or http on loopback for the emulator: 'http://127.0.0.1:5080').
        Organization              = 'acme'
        Region                    = 'US'

        # The API key, exactly one of:
        #   ApiKeyEnvironmentVariable    an environment variable (a scheduled task's account, a CI secret)
        #   ApiKeyAutomationCredential   an Azure Automation credential (the password is the key)
        #   ApiKeyAutomationVariable     an encrypted Azure Automation variable
        #   ApiKeySecret                 a SecretManagement secret, from SecretVault if given
        ApiKeyEnvironmentVariable = 'KUSTOMER_KEY'
        # SecretVault = 'CorpVault'
    }

    # Customer, Company or kobject.<klass> (for example kobject.order).
    Object      = 'Customer'

    # Customer: ExternalId, Email or custom.<attribute>; Company: ExternalId or custom.<attribute>; KObject: ExternalId.
    SyncKey     = 'ExternalId'

    # UpdateOrCreate (default), UpdateOnly or CreateOnly.
    Behavior    = 'UpdateOrCreate'

    # Kustomer field = source column, or = { scriptblock } computing the value from the row ($_).
    # Columns named like a Kustomer field or custom attribute need no entry.
    Mapping     = @{
        'custom.crmAccountIdStr' = { 'crm-' + $_.externalId }
    }

    # $true: a NULL column leaves the Kustomer field as it is instead of clearing it.
    SkipNull    = $false

    # Requests in flight at once (1-64). The org's rate limit is shared and honoured whatever this is.
    ThrottleLimit = 8

    State       = @{
        # A SQLite file (created on first use), relative to this file ...
        Path = 'customers.state.db'

        # ... or a table in Postgres or SQL Server (Azure Automation keeps no disk between jobs):
        # Provider = 'Postgres'            # or 'SqlServer'
        # ConnectionStringEnvironmentVariable = 'KUSTOMER_STATE_DB'   # or ConnectionString, ConnectionStringAutomationVariable, ConnectionStringSecret
        # SecretVault = 'CorpVault'
        # Schema = 'kustomersync'          # default kustomersync
        # TablePrefix = 'ks_'              # default none
        # What '$LastRunStart' is after a run that rejected rows. LastSuccessfulRun (default): the last run in which
        # every row succeeded, so rejected rows are read again. AdvanceAndRetry: each completed run's start; the rows
        # that failed at Kustomer are kept here and sent again by the next runs, at most RetryRuns (default 5) runs.
        # Watermark = 'AdvanceAndRetry'
        # RetryRuns = 5
    }

    # Optional: who hears of a run nobody watches. A webhook (Teams, Slack, or one of your own) gets a short summary
    # (counts, status, ErrorId, at most ten rejected keys; never row data or secrets) when a run fails or rejects more
    # than RejectedShare of its rows; the URL is a secret, so it comes from where the key comes from.
    Alerts         = @{
        WebhookEnvironmentVariable = 'KUSTOMER_SYNC_HOOK'   # or WebhookAutomationVariable, WebhookSecret
        # Format        = 'Auto'      # Teams, Slack or Json; Auto chooses by the webhook's host
        # RejectedShare = 0.05        # alert when more than 5 % of the rows were rejected
        # OnSuccess     = $false      # $true: a message after every run
        # EventLog      = $true       # Windows: one Application event log entry per run (source KustomerSync)
    }

    # Optional: guards against a broken source, judged before any write (they are on with these defaults when this
    # section is left out). A run that looks broken is refused with KustomerSync.GuardTripped (exit code 1, recorded
    # Refused, alerted): a whole-table query (no '$LastRunStart', no PushDown) that came back empty or under
    # MinSourceShare of the last successful run; more than MaxChangeShare of the records the sync knows changing; a
    # field cleared on more than MaxClearShare of the records that had a value in it (a join that stopped matching).
    # $null turns one guard off; Invoke-KustomerSync -Force runs past them once.
    Guards         = @{
        # RefuseEmptySource = $true
        # MinSourceShare    = 0.5
        MaxChangeShare      = 0.25
        MaxClearShare       = 0.25
        # MinRecordsToJudge = 100     # shares are judged over at least this many records
        # Force             = $true   # turns every guard off
    }

    # $true: ignore the stored hashes on every run (a weekly full resend); -FullSync does it for one run.
    FullSync       = $false

    # $true: warn about keys synced before that the source no longer returns. Only with a query that returns the
    # whole table (not with '$LastRunStart', not with PushDown).
    ReportKeysLeft = $false

    # $true: Postgres source with the state in the same database: the comparison runs in SQL and only new and
    # changed rows leave the database (State.Provider = 'Postgres' on the same host and database).
    PushDown       = $false

    # $true: with a custom-attribute SyncKey, create on a search miss even when the org has records older than two
    # years, which Kustomer's search cannot see (one of them may hold the key). By default such rows fail with
    # KustomerSync.KeyNotProvablyAbsent instead of risking a duplicate.
    CreateOnSearchMiss = $false

    # $true: created records carry importedAt (a backfill of old records); custom objects so marked are exempt from
    # Kustomer's limit of 120 creates a minute per customer.
    Backfill       = $false
}
