using System.Data;
using System.Data.Common;
using System.Globalization;

namespace KustomerSync.Engine.State;

/// <summary>
/// The run history of one sync: a row per run (start, end, counts, status, message), written at once rather than
/// buffered; the row outcomes of old runs are pruned to the newest <see cref="StateStoreOptions.KeepRowOutcomesForRuns"/>.
/// Runs this session started and did not finish are marked Failed when it ends.
/// </summary>
internal sealed class RunHistory
{
    private readonly SqlStateStore _store;
    private readonly SyncStateOptions _options;
    private readonly StateLease _lease;
    private readonly HashSet<long> _openRuns = new();

    public RunHistory(SqlStateStore store, SyncStateOptions options, StateLease lease)
    {
        _store = store;
        _options = options;
        _lease = lease;
    }

    private string SyncName => _options.SyncName;

    /// <summary>Records the start of a run (status Running) and returns its id. Written at once, not buffered.</summary>
    public long StartRun(SyncRunStart start)
    {
        var id = Guard("written", () =>
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null, d.StartRunStatement());
            StateDialect.AddText(command, "@s", SyncName);
            StateDialect.AddText(command, "@o", start.Object ?? _options.Object);
            StateDialect.AddText(command, "@k", start.SyncKey ?? _options.SyncKey);
            StateDialect.AddText(command, "@b", start.Behavior.ToString());
            StateDialect.Add(command, "@w", start.WhatIf, DbType.Boolean);
            StateDialect.Add(command, "@f", start.FullSync || _options.FullSync, DbType.Boolean);
            d.AddTime(command, "@t", start.StartedUtc);
            StateDialect.AddText(command, "@st", nameof(SyncRunStatus.Running));
            StateDialect.AddText(command, "@m", _lease.Machine);
            StateDialect.Add(command, "@p", _lease.ProcessId, DbType.Int32);
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        });
        lock (_openRuns) _openRuns.Add(id);
        return id;
    }

    /// <summary>Records the run's end, counts and status, and prunes old row outcomes.</summary>
    public void FinishRun(long runId, UpsertSummary summary, SyncRunStatus status, DateTime endedUtc, string? message, long? keysLeft)
    {
        Guard("written", () =>
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var tx = connection.BeginTransaction();
            using (var command = _store.Command(connection, tx,
                       $"UPDATE {d.Table("run")} SET ended_at = @e, status = @st, total = @total, created = @created, updated = @updated, unchanged = @unchanged, " +
                       "invalid = @invalid, failed = @failed, would_create = @wc, would_update = @wu, requests = @req, keys_left = @left, message = @msg WHERE run_id = @r"))
            {
                d.AddTime(command, "@e", endedUtc);
                StateDialect.AddText(command, "@st", status.ToString());
                StateDialect.Add(command, "@total", summary.Total, DbType.Int64);
                StateDialect.Add(command, "@created", summary.Created, DbType.Int64);
                StateDialect.Add(command, "@updated", summary.Updated, DbType.Int64);
                StateDialect.Add(command, "@unchanged", summary.Unchanged, DbType.Int64);
                StateDialect.Add(command, "@invalid", summary.Invalid, DbType.Int64);
                StateDialect.Add(command, "@failed", summary.Failed, DbType.Int64);
                StateDialect.Add(command, "@wc", summary.WouldCreate, DbType.Int64);
                StateDialect.Add(command, "@wu", summary.WouldUpdate, DbType.Int64);
                StateDialect.Add(command, "@req", summary.Requests, DbType.Int64);
                StateDialect.Add(command, "@left", keysLeft, DbType.Int64);
                StateDialect.AddText(command, "@msg", message is null ? null : StateWriteBuffer.Truncate(message));
                StateDialect.Add(command, "@r", runId, DbType.Int64);
                command.ExecuteNonQuery();
            }
            PruneRowOutcomes(connection, tx);
            tx.Commit();
            return 0;
        });
        lock (_openRuns) _openRuns.Remove(runId);
    }

    private void PruneRowOutcomes(DbConnection connection, DbTransaction tx)
    {
        var d = _store.Dialect;
        var keep = Math.Max(0, _store.Options.KeepRowOutcomesForRuns);
        long? threshold = null;
        using (var command = _store.Command(connection, tx, $"SELECT run_id FROM {d.Table("run")} WHERE sync_name = @s ORDER BY run_id DESC"))
        {
            StateDialect.AddText(command, "@s", SyncName);
            using var reader = command.ExecuteReader();
            var n = 0;
            while (reader.Read())
                if (n++ == keep)
                {
                    threshold = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
                    break;
                }
        }
        if (threshold is null) return;
        using var delete = _store.Command(connection, tx,
            $"DELETE FROM {d.Table("run_row")} WHERE run_id <= @t AND run_id IN (SELECT run_id FROM {d.Table("run")} WHERE sync_name = @s)");
        StateDialect.Add(delete, "@t", threshold.Value, DbType.Int64);
        StateDialect.AddText(delete, "@s", SyncName);
        delete.ExecuteNonQuery();
    }

    /// <summary>Marks the runs this session started and did not finish as Failed, on an open connection.</summary>
    public void FailOpenRuns(DbConnection connection, DateTime nowUtc)
    {
        var d = _store.Dialect;
        long[] open;
        lock (_openRuns) open = _openRuns.ToArray();
        foreach (var runId in open)
        {
            using var fail = _store.Command(connection, null,
                $"UPDATE {d.Table("run")} SET status = @st, ended_at = @now, message = @msg WHERE run_id = @r AND status = @running");
            StateDialect.AddText(fail, "@st", nameof(SyncRunStatus.Failed));
            d.AddTime(fail, "@now", nowUtc);
            StateDialect.AddText(fail, "@msg", "The run ended without recording its summary.");
            StateDialect.Add(fail, "@r", runId, DbType.Int64);
            StateDialect.AddText(fail, "@running", nameof(SyncRunStatus.Running));
            fail.ExecuteNonQuery();
        }
    }

    private T Guard<T>(string what, Func<T> work) => _store.GuardWrite(SyncName, what, work);
}
