@{
    RootModule           = 'KustomerSync.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7a52-3d1e-4b8a-9c61-2e7d9a4b1c08'
    Author               = 'KustomerSync'
    CompanyName          = 'KustomerSync'
    Copyright            = '(c) KustomerSync. All rights reserved.'
    Description          = 'Syncs rows from SQL Server, Postgres, MySQL, SQLite, Snowflake, BigQuery and other sources into Kustomer customers, companies and custom objects, with update-or-create semantics, incremental state and safe retries.'
    CompatiblePSEditions = @('Core', 'Desktop')
    PowerShellVersion    = '5.1'
    FormatsToProcess     = @('KustomerSync.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-KustomerDestination'
        'Disconnect-KustomerDestination'
        'Get-KustomerDestination'
        'Test-KustomerConnection'
        'Get-KustomerSchema'
        'Get-SourceRows'
        'Invoke-KustomerUpsert'
        'Get-KustomerSyncRun'
        'Invoke-KustomerSync'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Kustomer', 'ReverseETL', 'Sync', 'SQL', 'SqlServer', 'Postgres', 'MySQL', 'SQLite', 'Snowflake', 'BigQuery', 'Databricks')
            ProjectUri   = 'https://github.com/kustomersync/kustomersync'
            ReleaseNotes = 'First release: destinations and connection tests; Get-SourceRows for SQL Server, Postgres, Redshift, MySQL, SQLite, Snowflake, Databricks, BigQuery, Elasticsearch, Google Sheets and any DbConnection; Invoke-KustomerUpsert for customers, companies and custom objects (single-record and bulk paths, incremental state); Invoke-KustomerSync for declarative scheduled syncs; Get-KustomerSyncRun; Get-KustomerSchema.'
        }
    }
}
