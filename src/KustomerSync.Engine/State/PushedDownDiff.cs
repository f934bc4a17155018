using System.Text.RegularExpressions;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>
/// The pushed-down diff: when the state table lives in the same database as the source, the database compares each
/// source row with the state and only new or changed rows leave it.
/// </summary>
/// <remarks>
/// <para>The payload hash is computed on the client from the mapped payload, which SQL cannot reproduce. So the diff
/// compares a second hash, the <b>source hash</b>: a hash of the source row itself, computed in SQL by the rewritten query
/// and returned as an extra column (<see cref="SourceHashColumn"/>). The client never computes it: it reads it, and on
/// success stores it beside the payload hash (<see cref="SyncState.Confirm"/> with sourceHash), or, for a row whose payload
/// turned out unchanged (an unmapped column changed, or the first pushed-down run after normal runs), with
/// <see cref="SyncState.RecordSourceHash"/>. Both paths therefore agree by construction, whatever the column types.</para>
/// <para>Postgres: <c>md5(@ks_salt || row_to_json(q)::text)</c> of the user query's row (column names and values, in the
/// query's column order). The salt is a fingerprint of what shapes the payload outside the query (the mapping, object,
/// key and options; the caller computes it, e.g. a hash of them): without it a changed -Mapping over unchanged rows
/// would never reach Kustomer, because no row would come out. A new salt brings every row out once; rows whose payload
/// hash is unchanged then only get their new source hash stored (<see cref="SyncState.RecordSourceHash"/>), no request.
/// SQL Server (2016+): MD5 of the salt followed by <c>(SELECT q.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES)</c>,
/// lower-case hex. A row is returned when the state has no source hash for its key (new key, a failure, or a row last
/// confirmed by a normal run, which clears the source hash) or a different one.</para>
/// <para>The query also returns the key's stored payload hash, Kustomer id, failed flag, valued fields and record stamp (<see cref="AddedColumns"/>),
/// so a session opened with <see cref="SyncStateOptions.LoadEntries"/> false decides per row with
/// <see cref="EntryFromRow"/> and <see cref="SyncState.IsUnchanged(StateEntry, PayloadHash)"/>: 1,000,000 keys need
/// not be loaded to sync 10,000 changed rows.</para>
/// <para>Soundness: a confirmation without a source hash clears the stored one, so a change made through a normal run can
/// never be masked by an old source hash; a failure clears it too, so a failed row comes back until it succeeds.
/// The text form of a few types depends on session settings (timestamptz on TimeZone, money on lc_monetary): a
/// different setting makes rows look changed (extra work, their payload hashes then match and nothing is written), never
/// unchanged. Under -FullSync run the user's query as it is. Keys that left the source cannot be seen in a diff; use
/// <see cref="BuildKeysGoneQuery"/>.</para>
/// <para>The key column is named as the query returns it (case-sensitive); its text form (<c>::text</c>) must equal the
/// sync key the client stores (true for text, integer and uuid keys). Email keys are compared lower-cased: pass
/// <c>lowerCaseKey</c> and store lower-cased keys.</para>
/// </remarks>
public static class PushedDownDiff
{
    /// <summary>Name of the extra column that carries the source hash.</summary>
    public const string SourceHashColumn = "__ks_source_hash";

    /// <summary>Name of the added parameter holding the sync name.</summary>
    public const string SyncParameter = "ks_sync";

    /// <summary>Name of the added parameter holding the salt (the fingerprint of the mapping).</summary>
    public const string SaltParameter = "ks_salt";

    /// <summary>The state's payload hash of the row's key (null for a new key).</summary>
    public const string PayloadHashColumn = "__ks_payload_hash";

    /// <summary>The state's Kustomer id of the row's key (null when unknown): saves the lookup.</summary>
    public const string KustomerIdColumn = "__ks_kustomer_id";

    /// <summary>1 when the key's last attempt failed, else 0.</summary>
    public const string FailedColumn = "__ks_failed";

    /// <summary>The state's valued fields of the row's key (<see cref="ValuedFields.Stored"/>; null when not known).</summary>
    public const string ValuedColumn = "__ks_valued";

    /// <summary>The state's record stamp of the row's key (<see cref="StateEntry.Stamp"/>; null when not known).</summary>
    public const string StampColumn = "__ks_stamp";

    /// <summary>All added columns, in the order they follow the user's columns.</summary>
    public static readonly IReadOnlyList<string> AddedColumns = new[] { SourceHashColumn, PayloadHashColumn, KustomerIdColumn, FailedColumn, ValuedColumn, StampColumn };

    /// <summary>
    /// The state of a row's key from the added columns (a session opened with LoadEntries = false has no entries):
    /// use it with <see cref="SyncState.IsUnchanged(StateEntry, PayloadHash)"/>.
    /// </summary>
    public static StateEntry EntryFromRow(object? payloadHash, object? kustomerId, object? failed, object? valued, object? stamp) =>
        new(kustomerId is null or DBNull ? null : Convert.ToString(kustomerId, System.Globalization.CultureInfo.InvariantCulture),
            PayloadHash.TryParse(payloadHash as string, out var hash) ? hash : default,
            null, 0,
            failed is not (null or DBNull) && Convert.ToInt32(failed, System.Globalization.CultureInfo.InvariantCulture) != 0,
            null,
            ValuedFields.Parse(valued as string),
            stamp as string);

    private static readonly Regex TrailingSemicolons = new(@"[\s;]+$");

    /// <summary>The Postgres query returning only new or changed rows of <paramref name="userQuery"/>, plus <see cref="SourceHashColumn"/>.</summary>
    /// <param name="stateTable">The qualified state table, e.g. <c>IStateStore.Dialect.Table("state")</c> → <c>"kustomersync"."state"</c>.</param>
    /// <param name="salt">A fingerprint of everything outside the query that shapes the payload (mapping, object, sync
    /// key, options, mapper version): it is hashed with every row, so changing it brings every row out once.</param>
    public static PushedDownQuery BuildQuery(string userQuery, string keyColumn, string syncName, string stateTable, bool lowerCaseKey = false, string salt = "")
    {
        var query = Inner(userQuery);
        var key = KeyExpression(PgQuote(keyColumn), lowerCaseKey, sqlServer: false);
        var sql =
            $"SELECT q.*, ks_h.h AS {PgQuote(SourceHashColumn)}, ks_s.payload_hash AS {PgQuote(PayloadHashColumn)}, " +
            $"ks_s.kustomer_id AS {PgQuote(KustomerIdColumn)}, CASE WHEN ks_s.last_error IS NULL THEN 0 ELSE 1 END AS {PgQuote(FailedColumn)}, " +
            $"ks_s.valued_fields AS {PgQuote(ValuedColumn)}, ks_s.record_stamp AS {PgQuote(StampColumn)}\n" +
            $"FROM (\n{query}\n) AS q\n" +
            $"CROSS JOIN LATERAL (SELECT md5(CAST(@{SaltParameter} AS text) || row_to_json(q)::text) AS h) AS ks_h\n" +
            $"LEFT JOIN {stateTable} AS ks_s ON ks_s.sync_name = @{SyncParameter} AND ks_s.record_key = {key}\n" +
            "WHERE ks_s.source_hash IS DISTINCT FROM ks_h.h";
        return new PushedDownQuery(sql, Parameters(syncName, salt));
    }

    private static Dictionary<string, object?> Parameters(string syncName, string salt) =>
        new() { [SyncParameter] = syncName, [SaltParameter] = salt ?? "" };

    /// <summary>The same for a Postgres state store: the state table's name is taken from the store.</summary>
    public static PushedDownQuery BuildQuery(string userQuery, string keyColumn, string syncName, IStateStore store, bool lowerCaseKey = false, string salt = "")
    {
        if (store.Provider == StateProvider.SqlServer) return BuildSqlServerQuery(userQuery, keyColumn, syncName, store.Dialect.Table("state"), lowerCaseKey, salt);
        if (store.Provider != StateProvider.Postgres)
            throw new StateException(ErrorIds.StateInvalidArgument, "The pushed-down diff needs the state in a Postgres or SQL Server database, the same database as the source.");
        return BuildQuery(userQuery, keyColumn, syncName, store.Dialect.Table("state"), lowerCaseKey, salt);
    }

    /// <summary>The SQL Server (2016+) form. Not run here (no SQL Server on these machines): checked as text only.</summary>
    public static PushedDownQuery BuildSqlServerQuery(string userQuery, string keyColumn, string syncName, string stateTable, bool lowerCaseKey = false, string salt = "")
    {
        var query = Inner(userQuery);
        var key = KeyExpression("[" + keyColumn.Replace("]", "]]") + "]", lowerCaseKey, sqlServer: true);
        var sql =
            $"SELECT q.*, ks_h.h AS [{SourceHashColumn}], ks_s.payload_hash AS [{PayloadHashColumn}], " +
            $"ks_s.kustomer_id AS [{KustomerIdColumn}], CASE WHEN ks_s.last_error IS NULL THEN 0 ELSE 1 END AS [{FailedColumn}], " +
            $"ks_s.valued_fields AS [{ValuedColumn}], ks_s.record_stamp AS [{StampColumn}]\n" +
            $"FROM (\n{query}\n) AS q\n" +
            $"CROSS APPLY (SELECT LOWER(CONVERT(varchar(32), HASHBYTES('MD5', CONCAT(CAST(@{SaltParameter} AS nvarchar(max)), (SELECT q.* FOR JSON PATH, WITHOUT_ARRAY_WRAPPER, INCLUDE_NULL_VALUES))), 2)) AS h) AS ks_h\n" +
            $"LEFT JOIN {stateTable} AS ks_s ON ks_s.sync_name = @{SyncParameter} AND ks_s.record_key = {key}\n" +
            "WHERE ks_s.source_hash IS NULL OR ks_s.source_hash <> ks_h.h";
        return new PushedDownQuery(sql, Parameters(syncName, salt));
    }

    /// <summary>Postgres: the keys in the state that the user's query no longer returns (one column, record_key).</summary>
    public static PushedDownQuery BuildKeysGoneQuery(string userQuery, string keyColumn, string syncName, string stateTable, bool lowerCaseKey = false)
    {
        var key = KeyExpression(PgQuote(keyColumn), lowerCaseKey, sqlServer: false);
        var sql =
            $"SELECT ks_s.record_key FROM {stateTable} AS ks_s WHERE ks_s.sync_name = @{SyncParameter} AND NOT EXISTS (\n" +
            $"SELECT 1 FROM (\n{Inner(userQuery)}\n) AS q WHERE {key} = ks_s.record_key) ORDER BY ks_s.record_key";
        return new PushedDownQuery(sql, new Dictionary<string, object?> { [SyncParameter] = syncName });
    }

    private static string Inner(string userQuery)
    {
        if (string.IsNullOrWhiteSpace(userQuery)) throw new StateException(ErrorIds.StateInvalidArgument, "The source query is empty.");
        return TrailingSemicolons.Replace(userQuery.Trim(), "");
    }

    private static string KeyExpression(string quotedColumn, bool lower, bool sqlServer)
    {
        var text = sqlServer ? $"CONVERT(nvarchar(320), q.{quotedColumn})" : $"(q.{quotedColumn})::text";
        return lower ? $"LOWER({text})" : text;
    }

    private static string PgQuote(string identifier)
    {
        if (string.IsNullOrWhiteSpace(identifier)) throw new StateException(ErrorIds.StateInvalidArgument, "The key column is empty.");
        return "\"" + identifier.Replace("\"", "\"\"") + "\"";
    }
}
