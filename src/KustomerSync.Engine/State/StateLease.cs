using System.Data;
using System.Diagnostics;
using System.Globalization;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.State;

/// <summary>
/// A sync's exclusive lease in its state store: a row per sync with holder token, machine, process id, since and
/// heartbeat. Acquiring refuses a live holder (StateLocked) and a store recorded for another object or key
/// (StateMismatch), takes over a lease whose heartbeat is older than <see cref="StateStoreOptions.LeaseTimeout"/>, and
/// marks the runs its dead holder left Running as Failed. A timer on the store's clock renews the heartbeat.
/// </summary>
internal sealed class StateLease : IDisposable
{
    private readonly SqlStateStore _store;
    private readonly SyncStateOptions _options;
    private readonly string _token = Guid.NewGuid().ToString("N");
    private readonly string _machine = Environment.MachineName;
    private ITimer? _heartbeat;
    private volatile bool _lost;
    private volatile bool _released;

    private StateLease(SqlStateStore store, SyncStateOptions options)
    {
        _store = store;
        _options = options;
        using var process = Process.GetCurrentProcess();
        ProcessId = process.Id;
    }

    public string Machine => _machine;
    public int ProcessId { get; }
    /// <summary>True when another process took the lease over (this one stalled past the timeout).</summary>
    public bool Lost => _lost;
    private string SyncName => _options.SyncName;

    public static StateLease Acquire(SqlStateStore store, SyncStateOptions options)
    {
        var lease = new StateLease(store, options);
        lease.AcquireCore();
        var interval = store.Options.HeartbeatInterval;
        if (interval > TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
            lease._heartbeat = store.Options.Time.CreateTimer(_ => lease.Beat(), null, interval, interval);
        return lease;
    }

    private void AcquireCore()
    {
        var d = _store.Dialect;
        var now = UtcNow();
        _store.Guard("opened", () =>
        {
            using var connection = _store.Connect();
            using var tx = connection.BeginTransaction();
            using (var acquire = _store.Command(connection, tx, d.AcquireLeaseStatement()))
            {
                StateDialect.AddText(acquire, "@s", SyncName);
                d.AddTime(acquire, "@now", now);
                d.AddTime(acquire, "@stale", now - _store.Options.LeaseTimeout);
                StateDialect.AddText(acquire, "@tok", _token);
                StateDialect.AddText(acquire, "@m", _machine);
                StateDialect.Add(acquire, "@p", ProcessId, DbType.Int32);
                acquire.ExecuteNonQuery();
            }
            string? token, machine, objectName, syncKey;
            int? pid;
            DateTime? since, beat;
            using (var read = _store.Command(connection, tx,
                       $"SELECT lease_token, lease_machine, lease_process_id, lease_acquired_at, lease_heartbeat_at, object_name, sync_key FROM {d.Table("sync")} WHERE sync_name = @s"))
            {
                StateDialect.AddText(read, "@s", SyncName);
                using var reader = read.ExecuteReader();
                if (!reader.Read()) throw new StateException(ErrorIds.StateUnreadable, $"The state store {_store.Display} did not record the lease of sync '{SyncName}'.");
                token = reader.IsDBNull(0) ? null : reader.GetString(0);
                machine = reader.IsDBNull(1) ? null : reader.GetString(1);
                pid = reader.IsDBNull(2) ? null : Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture);
                since = d.ReadTime(reader, 3);
                beat = d.ReadTime(reader, 4);
                objectName = reader.IsDBNull(5) ? null : reader.GetString(5);
                syncKey = reader.IsDBNull(6) ? null : reader.GetString(6);
            }
            if (token != _token)
            {
                tx.Rollback();
                var expires = beat + _store.Options.LeaseTimeout;
                throw new StateException(ErrorIds.StateLocked,
                    $"The sync '{SyncName}' is already running: process {pid} on {machine} holds its lease since {Format(since)} (last heartbeat {Format(beat)}). " +
                    $"Two runs of one sync at once are refused. Wait for that run to end; if that process is gone, its lease expires at {Format(expires)} " +
                    $"(lease timeout {_store.Options.LeaseTimeout.TotalSeconds:0} s) and the next run proceeds.");
            }
            if (Differs(objectName, _options.Object) || Differs(syncKey, _options.SyncKey))
            {
                tx.Rollback();
                throw new StateException(ErrorIds.StateMismatch,
                    $"The sync '{SyncName}' is recorded in {_store.Display} for {objectName ?? "?"} keyed by {syncKey ?? "?"}, not {_options.Object ?? "?"} keyed by {_options.SyncKey ?? "?"}. " +
                    "Its stored ids and hashes belong to those records; give this sync another name (or use another state store).");
            }
            if ((objectName is null && _options.Object is not null) || (syncKey is null && _options.SyncKey is not null))
            {
                using var pin = _store.Command(connection, tx, $"UPDATE {d.Table("sync")} SET object_name = COALESCE(object_name, @o), sync_key = COALESCE(sync_key, @k) WHERE sync_name = @s");
                StateDialect.AddText(pin, "@o", _options.Object);
                StateDialect.AddText(pin, "@k", _options.SyncKey);
                StateDialect.AddText(pin, "@s", SyncName);
                pin.ExecuteNonQuery();
            }
            // Runs of this sync still marked Running belong to a process that lost or left the lease: they will never finish.
            using (var orphans = _store.Command(connection, tx,
                       $"UPDATE {d.Table("run")} SET status = @failed, ended_at = COALESCE(ended_at, @now), message = @msg WHERE sync_name = @s AND status = @running"))
            {
                StateDialect.AddText(orphans, "@failed", nameof(SyncRunStatus.Failed));
                d.AddTime(orphans, "@now", now);
                StateDialect.AddText(orphans, "@msg", "The process running this sync ended before recording the end of the run (its lease expired or was released).");
                StateDialect.AddText(orphans, "@s", SyncName);
                StateDialect.AddText(orphans, "@running", nameof(SyncRunStatus.Running));
                orphans.ExecuteNonQuery();
            }
            tx.Commit();
            return 0;
        });
    }

    private static bool Differs(string? recorded, string? wanted) =>
        recorded is not null && wanted is not null && !string.Equals(recorded, wanted, StringComparison.OrdinalIgnoreCase);

    private static string Format(DateTime? utc) => utc?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "?";

    private void Beat()
    {
        if (_released) return;
        try
        {
            var d = _store.Dialect;
            using var connection = _store.Connect();
            using var command = _store.Command(connection, null, $"UPDATE {d.Table("sync")} SET lease_heartbeat_at = @now WHERE sync_name = @s AND lease_token = @tok");
            d.AddTime(command, "@now", UtcNow());
            StateDialect.AddText(command, "@s", SyncName);
            StateDialect.AddText(command, "@tok", _token);
            if (command.ExecuteNonQuery() == 0) _lost = true;
        }
        catch (Exception)
        {
            // A missed heartbeat is retried at the next tick; the lease only expires after LeaseTimeout.
        }
    }

    /// <summary>Stops the heartbeat; <see cref="Release"/> gives the lease back.</summary>
    public void Dispose()
    {
        _released = true;
        _heartbeat?.Dispose();
    }

    /// <summary>Gives the lease back on an open connection (only while this session still holds it).</summary>
    public void Release(System.Data.Common.DbConnection connection)
    {
        Dispose();
        var d = _store.Dialect;
        using var release = _store.Command(connection, null,
            $"UPDATE {d.Table("sync")} SET lease_token = NULL, lease_machine = NULL, lease_process_id = NULL, lease_acquired_at = NULL, lease_heartbeat_at = NULL " +
            "WHERE sync_name = @s AND lease_token = @tok");
        StateDialect.AddText(release, "@s", SyncName);
        StateDialect.AddText(release, "@tok", _token);
        release.ExecuteNonQuery();
    }

    private DateTime UtcNow() => _store.Options.Time.GetUtcNow().UtcDateTime;
}
