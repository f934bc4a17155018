using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.State.Tests;

/// <summary>The same behaviour from the SQLite file and from the real Postgres.</summary>
public class StateStoreTests
{
    public static TheoryData<StateProvider> Providers => new() { StateProvider.Sqlite, StateProvider.Postgres };

    private static SyncStateOptions Sync(string name = "customers") => new(name) { Object = "Customer", SyncKey = "ExternalId" };

    private static PayloadHash Hash(int n) => PayloadHash.Compute(JsonNode.Parse($$"""{"n":{{n}}}"""));

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Opening_creates_the_schema_at_the_latest_version(StateProvider provider)
    {
        using var h = new Harness(provider);
        using (h.Store.Open(Sync()))
        {
        }
        Assert.Equal(h.Store.Dialect.LatestVersion, h.Store.EnsureSchema(create: false));
        Assert.Equal(h.Store.Dialect.LatestVersion, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "customers" }, h.Store.SyncNames());
        if (provider == StateProvider.Sqlite)
            Assert.Equal("wal", h.Scalar("PRAGMA journal_mode")?.ToString(), ignoreCase: true);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_version_1_store_is_migrated_and_keeps_its_data(StateProvider provider)
    {
        using var h = new Harness(provider);
        StateStores.CreateAtVersion(h.Store, 1);
        var hash = Hash(7).ToString();
        h.Exec($"INSERT INTO {h.T("state")} (sync_name, record_key, kustomer_id, payload_hash, confirmed_at, last_error, attempts) " +
               $"VALUES ('customers', 'c-1', 'k-1', '{hash}', {(provider == StateProvider.Sqlite ? "'2026-01-02T03:04:05.0000000Z'" : "'2026-01-02T03:04:05Z'")}, NULL, 0)");
        Assert.Equal(1, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));

        using var state = h.NewStore().Open(Sync());
        Assert.True(state.TryGetEntry("c-1", out var entry));
        Assert.Equal("k-1", entry.KustomerId);
        Assert.Equal(Hash(7), entry.Hash);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), entry.ConfirmedAt);
        Assert.True(state.IsUnchanged("c-1", Hash(7)));
        Assert.Equal(h.Store.Dialect.LatestVersion, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
        // the v2 and v3 parts work on the migrated store
        var run = state.StartRun(new SyncRunStart());
        state.Confirm("c-2", "k-2", Hash(2), DateTime.UtcNow, sourceHash: "abc");
        state.FinishRun(run, new UpsertSummary { Total = 1, Updated = 1 }, SyncRunStatus.Succeeded, DateTime.UtcNow);
        Assert.Equal("abc", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-2'"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_version_3_store_gains_kept_rows_and_keeps_its_runs_as_they_were(StateProvider provider)
    {
        using var h = new Harness(provider);
        StateStores.CreateAtVersion(h.Store, 3);
        var at = provider == StateProvider.Sqlite ? "'2026-01-02T03:04:05.0000000Z'" : "'2026-01-02T03:04:05Z'";
        h.Exec($"INSERT INTO {h.T("run")} (sync_name, what_if, full_sync, started_at, status) VALUES ('customers', {(provider == StateProvider.Sqlite ? "0" : "false")}, " +
               $"{(provider == StateProvider.Sqlite ? "0" : "false")}, {at}, 'PartiallyFailed')");

        var store = h.NewStore();
        using var state = store.Open(Sync());
        Assert.Equal(h.Store.Dialect.LatestVersion, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
        // A run from before v4 did not keep its failed rows: '$LastRunStart' must not move past it.
        Assert.Null(KeptRows.WatermarkStart(store, "customers"));
        Assert.Empty(KeptRows.Load(state));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Kept_rows_come_back_with_their_values_typed_and_move_the_watermark_past_their_run(StateProvider provider)
    {
        using var h = new Harness(provider);
        using var state = h.Store.Open(Sync());
        var first = state.StartRun(new SyncRunStart { StartedUtc = new DateTime(2026, 12, 1, 8, 0, 0, DateTimeKind.Utc) });
        state.FinishRun(first, new UpsertSummary { Total = 1, Created = 1 }, SyncRunStatus.Succeeded, DateTime.UtcNow);
        var second = state.StartRun(new SyncRunStart { StartedUtc = new DateTime(2026, 12, 1, 9, 0, 0, DateTimeKind.Utc) });
        state.RecordOutcome(second, 1, "c-1", UpsertStatus.Failed, null, "KustomerSync.Rejected", "Kustomer refused the row.");
        state.FinishRun(second, new UpsertSummary { Total = 1, Failed = 1 }, SyncRunStatus.PartiallyFailed, DateTime.UtcNow);
        Assert.Equal(new DateTime(2026, 12, 1, 8, 0, 0, DateTimeKind.Utc), KeptRows.WatermarkStart(h.Store, "customers"));

        var names = new[] { "externalId", "n", "big", "price", "ratio", "when", "on", "id", "blob", "none" };
        var values = new object?[] { "c-1", 7, 9_000_000_000L, 12.50m, 0.1, new DateTime(2026, 11, 30, 23, 59, 59, 123, DateTimeKind.Utc), true, Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), new byte[] { 1, 2 }, null };
        KeptRows.Save(state, second, drop: new[] { "gone" }, keep: new[] { new KeptRow("c-1", names, values, 2) },
            givenUp: new[] { (1L, "Kustomer refused the row. Given up.") });

        Assert.Equal(new DateTime(2026, 12, 1, 9, 0, 0, DateTimeKind.Utc), KeptRows.WatermarkStart(h.Store, "customers"));
        var kept = Assert.Single(KeptRows.Load(state));
        Assert.Equal("c-1", kept.Key);
        Assert.Equal(2, kept.RetriedRuns);
        Assert.Equal(names, kept.Names);
        Assert.Equal(values, kept.Values);
        Assert.Equal(values.Select(v => v?.GetType()), kept.Values.Select(v => v?.GetType()));
        Assert.Equal("Kustomer refused the row. Given up.", Assert.Single(h.Store.RowOutcomes(second)).Message);

        // Keeping a key again replaces it; dropping it forgets it.
        KeptRows.Save(state, second, drop: Array.Empty<string>(), keep: new[] { new KeptRow("c-1", names, values, 3) }, givenUp: Array.Empty<(long, string)>());
        Assert.Equal(3, Assert.Single(KeptRows.Load(state)).RetriedRuns);
        KeptRows.Save(state, second, drop: new[] { "c-1" }, keep: Array.Empty<KeptRow>(), givenUp: Array.Empty<(long, string)>());
        Assert.Empty(KeptRows.Load(state));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_store_with_a_newer_schema_is_refused_untouched(StateProvider provider)
    {
        using var h = new Harness(provider);
        using (h.Store.Open(Sync()))
        {
        }
        var newer = h.Store.Dialect.LatestVersion + 1;
        h.Exec($"INSERT INTO {h.T("schema_version")} (version, applied_at) VALUES ({newer}, {(provider == StateProvider.Sqlite ? "'2030-01-01T00:00:00.0000000Z'" : "now()")})");
        var ex = Assert.Throws<StateException>(() => h.NewStore().Open(Sync()));
        Assert.Equal("KustomerSync.StateNewerSchema", ex.ErrorId);
        Assert.Contains($"schema version {newer}", ex.Message);
        Assert.Contains("newer KustomerSync", ex.Message);
        Assert.Equal(newer, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_second_run_of_the_same_sync_is_refused_with_the_holder_named(StateProvider provider)
    {
        using var h = new Harness(provider);
        using var first = h.Store.Open(Sync());
        var ex = Assert.Throws<StateException>(() => h.NewStore().Open(Sync()));
        Assert.Equal("KustomerSync.StateLocked", ex.ErrorId);
        Assert.Contains("'customers'", ex.Message);
        Assert.Contains(Environment.MachineName, ex.Message);
        Assert.Contains($"process {Environment.ProcessId}", ex.Message);
        Assert.Contains("since " + DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ex.Message);

        using (h.NewStore().Open(Sync("companies") is var other ? other : null!))
        {
            // another sync in the same store is not blocked
        }
        first.Dispose();
        using var again = h.NewStore().Open(Sync());
        Assert.False(again.LeaseLost);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Concurrent_opens_of_one_sync_let_exactly_one_in(StateProvider provider)
    {
        using var h = new Harness(provider);
        h.Store.EnsureSchema();
        var winners = 0;
        var locked = 0;
        var sessions = new System.Collections.Concurrent.ConcurrentBag<SyncState>();
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, _ =>
        {
            try
            {
                sessions.Add(h.NewStore().Open(Sync()));
                Interlocked.Increment(ref winners);
            }
            catch (StateException e) when (e.ErrorId == ErrorIds.StateLocked)
            {
                Interlocked.Increment(ref locked);
            }
        });
        foreach (var s in sessions) s.Dispose();
        Assert.Equal(1, winners);
        Assert.Equal(5, locked);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_lease_left_by_a_crashed_process_expires_and_is_taken_over(StateProvider provider)
    {
        var clock = new FakeTimeProvider();
        using var h = new Harness(provider, o =>
        {
            o.Time = clock;
            o.LeaseTimeout = TimeSpan.FromMinutes(2);
            o.HeartbeatInterval = Timeout.InfiniteTimeSpan; // the "crashed" holder never renews
        });
        var crashed = h.Store.Open(Sync());
        var orphanRun = crashed.StartRun(new SyncRunStart { Object = "Customer" });
        clock.Advance(TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(1));
        Assert.Equal("KustomerSync.StateLocked", Assert.Throws<StateException>(() => h.NewStore().Open(Sync())).ErrorId);
        clock.Advance(TimeSpan.FromSeconds(2));
        using var next = h.NewStore().Open(Sync());
        var run = Assert.Single(h.Store.Runs("customers", runId: orphanRun));
        Assert.Equal(SyncRunStatus.Failed, run.Status);
        Assert.NotNull(run.Ended);
        Assert.Contains("ended before", run.Message);
        // the crashed session's late release does not free the new holder's lease
        crashed.Dispose();
        Assert.Equal("KustomerSync.StateLocked", Assert.Throws<StateException>(() => h.NewStore().Open(Sync())).ErrorId);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Heartbeats_keep_a_long_run_s_lease(StateProvider provider)
    {
        var clock = new FakeTimeProvider();
        using var h = new Harness(provider, o =>
        {
            o.Time = clock;
            o.LeaseTimeout = TimeSpan.FromMinutes(2);
            o.HeartbeatInterval = TimeSpan.FromSeconds(20);
        });
        using var running = h.Store.Open(Sync());
        // Ten minutes, five lease timeouts: each step fires the heartbeats that fall due in it, on this thread.
        for (var step = 0; step < 60; step++) clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("KustomerSync.StateLocked", Assert.Throws<StateException>(() => h.NewStore().Open(Sync())).ErrorId);
        Assert.False(running.LeaseLost);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_sync_name_is_pinned_to_its_object_and_key(StateProvider provider)
    {
        using var h = new Harness(provider);
        using (h.Store.Open(Sync()))
        {
        }
        var ex = Assert.Throws<StateException>(() => h.Store.Open(new SyncStateOptions("customers") { Object = "Company", SyncKey = "ExternalId" }));
        Assert.Equal("KustomerSync.StateMismatch", ex.ErrorId);
        Assert.Contains("Customer", ex.Message);
        using (h.Store.Open(new SyncStateOptions("customers") { Object = "customer", SyncKey = "externalid" }))
        {
            // case does not matter
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Confirms_and_failures_from_concurrent_tasks_are_all_written_in_batches(StateProvider provider)
    {
        using var h = new Harness(provider, o =>
        {
            o.FlushBatchSize = 97;
            o.FlushInterval = TimeSpan.FromMilliseconds(30);
        });
        const int tasks = 8, perTask = 1500;
        var now = new DateTime(2026, 11, 28, 12, 0, 0, DateTimeKind.Utc);
        using (var state = h.Store.Open(Sync()))
        {
            var runId = state.StartRun(new SyncRunStart());
            Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = tasks }, t =>
            {
                for (var i = 0; i < perTask; i++)
                {
                    var n = t * perTask + i;
                    var key = "c-" + n;
                    if (n % 10 == 0) state.Fail(key, "boom " + n, n % 20 == 0 ? "known-" + n : null, now);
                    else state.Confirm(key, "k-" + n, Hash(n), now);
                    state.RecordOutcome(runId, n + 1, key, n % 10 == 0 ? UpsertStatus.Failed : UpsertStatus.Created, null, null, null);
                }
            });
            state.FinishRun(runId, new UpsertSummary(), SyncRunStatus.PartiallyFailed, now);
            Assert.Equal(0, state.PendingWrites);
        }
        using var reopened = h.NewStore().Open(Sync());
        Assert.Equal(tasks * perTask, reopened.Entries.Count);
        for (var n = 0; n < tasks * perTask; n++)
        {
            var e = reopened.Entries["c-" + n];
            if (n % 10 == 0)
            {
                Assert.True(e.HasError);
                Assert.Equal(1, e.Attempts);
                Assert.True(e.Hash.IsEmpty);
                Assert.Equal(n % 20 == 0 ? "known-" + n : null, e.KustomerId);
            }
            else
            {
                Assert.False(e.HasError);
                Assert.Equal("k-" + n, e.KustomerId);
                Assert.Equal(Hash(n), e.Hash);
                Assert.Equal(now, e.ConfirmedAt);
            }
        }
        var run = h.Store.Runs("customers").Single();
        Assert.Equal(tasks * perTask, h.Store.RowOutcomes(run.RunId).Count());
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_failure_keeps_the_confirmed_hash_and_counts_attempts_and_a_confirm_resets_them(StateProvider provider)
    {
        using var h = new Harness(provider);
        using (var s = h.Store.Open(Sync()))
        {
            s.Confirm("c-1", "k-1", Hash(1), DateTime.UtcNow);
        }
        for (var i = 0; i < 2; i++)
            using (var s = h.Store.Open(Sync()))
                s.Fail("c-1", "HTTP 500 " + i);
        using (var s = h.Store.Open(Sync()))
        {
            var e = s.Entries["c-1"];
            Assert.Equal(Hash(1), e.Hash);
            Assert.Equal("k-1", e.KustomerId);
            Assert.True(e.HasError);
            Assert.Equal(2, e.Attempts);
            Assert.False(s.IsUnchanged("c-1", Hash(1))); // the last attempt failed: resend even if it equals the old payload
            Assert.Equal("k-1", s.KnownKustomerId("c-1"));
            Assert.Equal("HTTP 500 1", h.Scalar($"SELECT last_error FROM {h.T("state")} WHERE record_key = 'c-1'"));
            s.Confirm("c-1", "k-1", Hash(2), DateTime.UtcNow);
        }
        using (var s = h.Store.Open(Sync()))
        {
            var e = s.Entries["c-1"];
            Assert.False(e.HasError);
            Assert.Equal(0, e.Attempts);
            Assert.True(s.IsUnchanged("c-1", Hash(2)));
            Assert.False(s.IsUnchanged("c-1", Hash(1)));
            Assert.False(s.IsUnchanged("c-2", Hash(2)));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Source_hashes_of_many_unchanged_rows_are_written_in_batches(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.FlushBatchSize = 400);
        using (var s = h.Store.Open(Sync()))
            for (var i = 0; i < 2500; i++) s.Confirm("c-" + i, "k-" + i, Hash(i), DateTime.UtcNow);
        using (var s = h.Store.Open(Sync()))
            for (var i = 0; i < 2500; i++) s.RecordSourceHash("c-" + i, "sh" + i);
        Assert.Equal(2500L, Convert.ToInt64(h.Scalar($"SELECT COUNT(*) FROM {h.T("state")} WHERE source_hash = 'sh' || substr(record_key, 3)"), CultureInfo.InvariantCulture));
        using (var s = h.Store.Open(Sync()))
        {
            Assert.True(s.IsUnchanged("c-7", Hash(7))); // the payload hash is untouched
            s.Confirm("c-7", "k-7", Hash(8), DateTime.UtcNow); // a confirm without a source hash clears it
        }
        Assert.IsType<DBNull>(h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-7'"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Case_insensitive_keys_are_stored_lower_cased_once(StateProvider provider)
    {
        using var h = new Harness(provider);
        SyncStateOptions Email() => new("by-email") { Object = "Customer", SyncKey = "Email", KeyComparer = StringComparer.OrdinalIgnoreCase };
        using (var s = h.Store.Open(Email()))
            s.Confirm("Ada@Example.COM", "k-1", Hash(1), DateTime.UtcNow);
        using (var s = h.Store.Open(Email()))
        {
            Assert.True(s.IsUnchanged("ada@example.com", Hash(1)));
            Assert.True(s.IsUnchanged("ADA@EXAMPLE.COM", Hash(1)));
            s.Confirm("ADA@example.com", "k-1", Hash(2), DateTime.UtcNow);
            Assert.Empty(s.KeysNotSeen(new[] { "AdA@eXample.com" }, DateTime.UtcNow));
        }
        Assert.Equal("ada@example.com", h.Scalar($"SELECT record_key FROM {h.T("state")} WHERE sync_name = 'by-email'"));
        Assert.Equal(1L, Convert.ToInt64(h.Scalar($"SELECT COUNT(*) FROM {h.T("state")} WHERE sync_name = 'by-email'"), CultureInfo.InvariantCulture));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void FullSync_ignores_stored_hashes_but_keeps_known_ids(StateProvider provider)
    {
        using var h = new Harness(provider);
        using (var s = h.Store.Open(Sync()))
            s.Confirm("c-1", "k-1", Hash(1), DateTime.UtcNow);
        using (var s = h.Store.Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId", FullSync = true }))
        {
            Assert.True(s.FullSync);
            Assert.False(s.IsUnchanged("c-1", Hash(1)));
            Assert.Equal("k-1", s.KnownKustomerId("c-1"));
            s.Confirm("c-1", "k-1", Hash(3), DateTime.UtcNow);
        }
        using (var s = h.Store.Open(Sync()))
            Assert.True(s.IsUnchanged("c-1", Hash(3)));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void KeysNotSeen_reports_keys_that_left_the_source_once(StateProvider provider)
    {
        using var h = new Harness(provider);
        var t0 = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
            foreach (var k in new[] { "a", "b", "c", "d" }) s.Confirm(k, "k-" + k, Hash(1), t0);

        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(new[] { "b", "c" }, s.KeysNotSeen(new[] { "a", "d", "new" }, t0, record: false)); // -WhatIf: not recorded
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(new[] { "b", "c" }, s.KeysNotSeen(new[] { "a", "d" }, t0.AddDays(1)));
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(t0.AddDays(1), s.Entries["b"].GoneSince);
            Assert.Null(s.Entries["a"].GoneSince);
            Assert.Empty(s.KeysNotSeen(new[] { "a", "d" }, t0.AddDays(2)));        // not reported again
            Assert.Equal(new[] { "a" }, s.KeysNotSeen(k => k is "b" or "d", t0.AddDays(2))); // b came back, a left
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Null(s.Entries["b"].GoneSince);
            Assert.Equal(t0.AddDays(1), s.Entries["c"].GoneSince);
            Assert.Equal(t0.AddDays(2), s.Entries["a"].GoneSince);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Run_history_round_trips_with_row_outcomes_filtered_by_status(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.KeepRowOutcomesForRuns = 2);
        var start = new DateTime(2026, 11, 28, 6, 0, 0, DateTimeKind.Utc);
        long firstRun;
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Null(h.Store.LastSuccessfulRunStart("customers"));
            firstRun = s.StartRun(new SyncRunStart { Object = "Customer", SyncKey = "ExternalId", Behavior = SyncBehavior.UpdateOnly, StartedUtc = start });
            s.RecordOutcome(firstRun, new UpsertResult { Row = 1, Key = "a", Status = UpsertStatus.Created, KustomerId = "k-a" });
            s.RecordOutcome(firstRun, new UpsertResult { Row = 2, Key = "b", Status = UpsertStatus.Failed, ErrorId = "KustomerSync.Rejected", Message = "Row 2 (key 'b'): bad" });
            s.RecordOutcome(firstRun, new UpsertResult { Row = 3, Key = null, Status = UpsertStatus.Invalid, ErrorId = "KustomerSync.MissingKey", Message = "no key" });
            s.RecordOutcome(firstRun, new UpsertResult { Row = 4, Key = "d", Status = UpsertStatus.Unchanged, KustomerId = "k-d" });
            var summary = new UpsertSummary { Total = 4, Created = 1, Failed = 1, Invalid = 1, Unchanged = 1, Requests = 7 };
            s.KeysNotSeen(new[] { "a", "b", "d" }, start);
            s.FinishRun(firstRun, summary, SyncRunInfo.StatusFor(summary, fatal: false), start.AddMinutes(3));
        }
        var run = Assert.Single(h.Store.Runs("customers"));
        Assert.Equal(firstRun, run.RunId);
        Assert.Equal("customers", run.Sync);
        Assert.Equal("Customer", run.Object);
        Assert.Equal("ExternalId", run.SyncKey);
        Assert.Equal("UpdateOnly", run.Behavior);
        Assert.Equal(SyncRunStatus.PartiallyFailed, run.Status);
        Assert.Equal(start, run.Started);
        Assert.Equal(TimeSpan.FromMinutes(3), run.Duration);
        Assert.Equal((4L, 1L, 1L, 1L, 1L, 7L, 0L), (run.Total, run.Created, run.Failed, run.Invalid, run.Unchanged, run.Requests, run.KeysLeft!.Value));
        Assert.Equal(Environment.MachineName, run.Machine);
        Assert.Equal(Environment.ProcessId, run.ProcessId);
        Assert.Null(h.Store.LastSuccessfulRunStart("customers")); // partially failed runs do not move @since

        var rows = h.Store.RowOutcomes(firstRun, new[] { UpsertStatus.Failed, UpsertStatus.Invalid }).ToList();
        Assert.Equal(new long[] { 2, 3 }, rows.Select(r => r.Row));
        Assert.Equal("KustomerSync.Rejected", rows[0].ErrorId);
        Assert.Equal("Row 2 (key 'b'): bad", rows[0].Message);
        Assert.Null(rows[1].Key);
        Assert.Equal(4, h.Store.RowOutcomes(firstRun).Count());

        // three more runs: a succeeded one, a -WhatIf one, a cancelled one; row outcomes of the oldest are pruned
        var starts = new[] { start.AddDays(1), start.AddDays(2), start.AddDays(3) };
        var statuses = new[] { SyncRunStatus.Succeeded, SyncRunStatus.Succeeded, SyncRunStatus.Cancelled };
        for (var i = 0; i < 3; i++)
            using (var s = h.Store.Open(Sync()))
            {
                var id = s.StartRun(new SyncRunStart { StartedUtc = starts[i], WhatIf = i == 1 });
                s.RecordOutcome(id, 1, "a", UpsertStatus.Unchanged, "k-a", null, null);
                s.FinishRun(id, new UpsertSummary { Total = 1, Unchanged = 1 }, statuses[i], starts[i].AddMinutes(1), i == 2 ? "Stopped by the user." : null);
            }
        Assert.Equal(starts[0], h.Store.LastSuccessfulRunStart("customers")); // the -WhatIf run does not count
        var all = h.Store.Runs("customers");
        Assert.Equal(4, all.Count);
        Assert.True(all.Select(r => r.RunId).SequenceEqual(all.Select(r => r.RunId).OrderBy(x => x)));
        var last2 = h.Store.Runs("customers", last: 2);
        Assert.Equal(all.Skip(2).Select(r => r.RunId), last2.Select(r => r.RunId));
        Assert.Equal(SyncRunStatus.Cancelled, last2[1].Status);
        Assert.Equal("Stopped by the user.", last2[1].Message);
        Assert.Empty(h.Store.RowOutcomes(firstRun));
        Assert.Single(h.Store.RowOutcomes(all[3].RunId));
        Assert.Empty(h.Store.Runs("other"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_run_left_unfinished_by_its_session_is_marked_failed(StateProvider provider)
    {
        using var h = new Harness(provider);
        long id;
        using (var s = h.Store.Open(Sync()))
            id = s.StartRun(new SyncRunStart());
        var run = Assert.Single(h.Store.Runs(runId: id));
        Assert.Equal(SyncRunStatus.Failed, run.Status);
        Assert.Contains("without recording", run.Message);
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Table_prefix_keeps_stores_apart(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.TablePrefix = "ks_");
        using (var s = h.Store.Open(Sync()))
            s.Confirm("a", "k", Hash(1), DateTime.UtcNow);
        Assert.Equal(1L, Convert.ToInt64(h.Scalar($"SELECT COUNT(*) FROM {h.T("state")}"), CultureInfo.InvariantCulture));
        Assert.EndsWith("ks_state\"", h.T("state"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_session_loads_the_entries_of_200_000_keys(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.FlushBatchSize = 5000);
        var now = DateTime.UtcNow;
        using (var s = h.Store.Open(Sync()))
            for (var n = 0; n < 200_000; n++) s.Confirm("c-" + n, "5f0c" + n.ToString("x20", CultureInfo.InvariantCulture), Hash(n), now);
        using var state = h.Store.Open(Sync());
        Assert.Equal(200_000, state.Entries.Count);
        Assert.True(state.IsUnchanged("c-199999", Hash(199_999)));
    }

    private static ValuedFields Valued(params string[] paths) => ValuedFields.Of(paths);

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Valued_fields_are_stored_with_the_confirmation_and_equal_sets_load_as_one_instance(StateProvider provider)
    {
        using var h = new Harness(provider);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
        {
            s.Confirm("a", "k-a", Hash(1), t0, valued: Valued("name", "phones", "custom.tierStr"));
            s.Confirm("b", "k-b", Hash(2), t0, valued: Valued("custom.tierStr", "phones", "name"));
            s.Confirm("c", "k-c", Hash(3), t0, sourceHash: "sh-c", valued: Valued("name"));
            s.Confirm("d", "k-d", Hash(4), t0);
            s.Confirm("e", "k-e", Hash(5), t0, valued: Valued("name"));
        }
        Assert.Equal("custom.tierStr,name,phones", h.Scalar($"SELECT valued_fields FROM {h.T("state")} WHERE record_key = 'a'"));
        using (var s = h.NewStore().Open(Sync()))
        {
            var a = s.Entries["a"].Valued;
            Assert.NotNull(a);
            Assert.Equal(new[] { "custom.tierStr", "name", "phones" }, a!.Paths);
            Assert.Same(a, s.Entries["b"].Valued);
            Assert.Equal(Valued("name"), s.Entries["c"].Valued);
            Assert.Same(s.Entries["c"].Valued, s.Entries["e"].Valued);
            Assert.Null(s.Entries["d"].Valued);
            Assert.Equal("sh-c", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c'"));

            // A failure and a key that left the source keep the set of the last confirmed payload.
            s.Fail("a", "HTTP 500");
            s.KeysNotSeen(new[] { "a", "b", "d", "e" }, t0.AddDays(1));
            // A confirmation without a set (a caller that does not know it) stores "not known", not the old set.
            s.Confirm("e", "k-e", Hash(6), t0.AddDays(1));
        }
        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.True(s.Entries["a"].HasError);
            Assert.Equal(Valued("name", "phones", "custom.tierStr"), s.Entries["a"].Valued);
            Assert.Equal(t0.AddDays(1), s.Entries["c"].GoneSince);
            Assert.Equal(Valued("name"), s.Entries["c"].Valued);
            Assert.Null(s.Entries["e"].Valued);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void RecordValued_sets_only_the_valued_fields_of_confirmed_keys_in_batches(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.FlushBatchSize = 400);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
            for (var i = 0; i < 2500; i++) s.Confirm("c-" + i, "k-" + i, Hash(i), t0);
        using (var s = h.Store.Open(Sync()))
        {
            Assert.All(s.Entries.Values, e => Assert.Null(e.Valued));
            for (var i = 0; i < 2500; i++) s.RecordValued("c-" + i, i % 2 == 0 ? Valued("name", "phones") : Valued("name"));
            s.RecordValued("never-confirmed", Valued("name"));
        }
        // An Unchanged row of a pushed-down diff gets both its source hash and its set, in either order (queued
        // together: no flush in between).
        using (var s = h.NewStore(o => o.FlushInterval = Timeout.InfiniteTimeSpan).Open(Sync()))
        {
            s.RecordValued("c-7", Valued("name", "emails"));
            s.RecordSourceHash("c-7", "sh-7");
            s.RecordSourceHash("c-8", "sh-8");
            s.RecordValued("c-8", Valued("emails"));
            Assert.Equal(2, s.PendingWrites);
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(2500, s.Entries.Count); // RecordValued creates no state row
            Assert.Equal(Valued("name", "phones"), s.Entries["c-0"].Valued);
            Assert.Same(s.Entries["c-0"].Valued, s.Entries["c-2498"].Valued);
            Assert.Equal(Valued("emails", "name"), s.Entries["c-7"].Valued);
            Assert.Equal(Valued("emails"), s.Entries["c-8"].Valued);
            Assert.True(s.IsUnchanged("c-7", Hash(7)));   // nothing else of the confirmation moved
            Assert.Equal(t0, s.Entries["c-7"].ConfirmedAt);
            Assert.Equal("k-7", s.Entries["c-7"].KustomerId);
        }
        Assert.Equal("sh-7", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-7'"));
        Assert.Equal("sh-8", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-8'"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Known_counts_confirmed_keys_and_per_field_those_that_had_a_value(StateProvider provider)
    {
        using var h = new Harness(provider);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(0, s.Known().Records);
            Assert.Empty(s.Known().HadValue);
            for (var i = 0; i < 10; i++)
                s.Confirm("c-" + i, "k-" + i, Hash(i), t0, valued: i < 6 ? Valued("name", "custom.tierStr") : i < 9 ? Valued("name") : null);
        }
        using (var other = h.Store.Open(Sync("companies")))
            other.Confirm("x", "k-x", Hash(1), t0, valued: Valued("name"));
        using (var s = h.Store.Open(Sync()))
        {
            s.Fail("failed-first", "HTTP 400");                 // never confirmed: not a known record
            s.Fail("c-0", "HTTP 500");                          // confirmed before: still known, with its set
            s.Confirm("c-10", "k-10", Hash(10), t0, valued: Valued("name"));
            var queued = s.Known();                             // what the session queued counts too
            Assert.Equal(11, queued.Records);
            Assert.Equal(10, queued.HadValue["name"]);
        }
        foreach (var load in new[] { true, false })
            using (var s = h.Store.Open(new SyncStateOptions("customers") { Object = "Customer", SyncKey = "ExternalId", LoadEntries = load }))
            {
                Assert.Equal(load ? 12 : 0, s.Entries.Count);
                var known = s.Known();
                Assert.Equal(11, known.Records);                    // c-9's set is not known: counted here only
                Assert.Equal(new Dictionary<string, long> { ["custom.tierStr"] = 6, ["name"] = 10 }, known.HadValue);
            }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_version_4_store_is_migrated_and_its_keys_learn_their_valued_fields(StateProvider provider)
    {
        using var h = new Harness(provider);
        StateStores.CreateAtVersion(h.Store, 4);
        var at = provider == StateProvider.Sqlite ? "'2026-01-02T03:04:05.0000000Z'" : "'2026-01-02T03:04:05Z'";
        foreach (var key in new[] { "c-1", "c-2" })
            h.Exec($"INSERT INTO {h.T("state")} (sync_name, record_key, kustomer_id, payload_hash, confirmed_at, attempts) VALUES ('customers', '{key}', 'k-{key}', '{Hash(1)}', {at}, 0)");
        Assert.Equal(4, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));

        var store = h.NewStore();
        using (var s = store.Open(Sync()))
        {
            Assert.Equal(h.Store.Dialect.LatestVersion, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
            Assert.Null(s.Entries["c-1"].Valued);                // confirmed before v5: not known
            Assert.True(s.IsUnchanged("c-1", Hash(1)));
            var before = s.Known();
            Assert.Equal(2, before.Records);
            Assert.Empty(before.HadValue);
            s.RecordValued("c-1", Valued("name", "phones"));    // the row came Unchanged: its set is learned
        }
        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.Equal(Valued("name", "phones"), s.Entries["c-1"].Valued);
            Assert.Null(s.Entries["c-2"].Valued);
            Assert.Equal(new Dictionary<string, long> { ["name"] = 1, ["phones"] = 1 }, s.Known().HadValue);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void LastSuccessfulRunRows_is_the_total_of_the_newest_run_that_succeeded_or_partially_failed(StateProvider provider)
    {
        using var h = new Harness(provider);
        var start = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        void Run(SyncState s, long total, SyncRunStatus status, bool whatIf = false)
        {
            var id = s.StartRun(new SyncRunStart { StartedUtc = start, WhatIf = whatIf });
            s.FinishRun(id, new UpsertSummary { Total = total }, status, start.AddMinutes(1));
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Null(h.Store.LastSuccessfulRunRows("customers"));
            Run(s, 7, SyncRunStatus.Failed);
            Run(s, 0, SyncRunStatus.Cancelled);
            Assert.Null(h.Store.LastSuccessfulRunRows("customers"));
            Run(s, 1000, SyncRunStatus.Succeeded);
            Assert.Equal(1000, h.Store.LastSuccessfulRunRows("customers"));
            Run(s, 990, SyncRunStatus.PartiallyFailed);
            Run(s, 3, SyncRunStatus.Succeeded, whatIf: true);
            Run(s, 0, SyncRunStatus.Failed);
            Run(s, 2, SyncRunStatus.Cancelled);
            s.StartRun(new SyncRunStart { StartedUtc = start });   // still running
            Assert.Equal(990, h.Store.LastSuccessfulRunRows("customers"));
        }
        using (var other = h.Store.Open(Sync("companies")))
            Run(other, 5, SyncRunStatus.Succeeded);
        Assert.Equal(990, h.Store.LastSuccessfulRunRows("customers"));
        Assert.Equal(5, h.Store.LastSuccessfulRunRows("companies"));
        Assert.Null(h.Store.LastSuccessfulRunRows("nobody"));
    }

    // Opaque to the store: the lead's format (rev|updatedAt|company) is only an example here.
    private static string Stamp(int rev, string company = "5f1b00000000000000000001") => $"{rev}|2026-12-01T10:00:0{rev % 10}.000Z|{company}";

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Record_stamps_are_stored_with_the_confirmation_and_only_a_confirmation_changes_them(StateProvider provider)
    {
        using var h = new Harness(provider);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
        {
            s.Confirm("a", "k-a", Hash(1), t0, stamp: Stamp(1));
            s.Confirm("b", "k-b", Hash(2), t0, sourceHash: "sh-b", valued: Valued("name"), stamp: Stamp(2, ""));
            s.Confirm("c", "k-c", Hash(3), t0);
            s.Confirm("d", "k-d", Hash(4), t0, stamp: Stamp(4));
            s.Confirm("e", "k-e", Hash(5), t0, stamp: Stamp(5));
            s.Confirm("f", "k-f", Hash(6), t0, stamp: Stamp(6));
        }
        Assert.Equal(Stamp(1), h.Scalar($"SELECT record_stamp FROM {h.T("state")} WHERE record_key = 'a'"));
        Assert.Equal(DBNull.Value, h.Scalar($"SELECT record_stamp FROM {h.T("state")} WHERE record_key = 'c'"));
        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.Equal(Stamp(1), s.Entries["a"].Stamp);
            Assert.Equal(Stamp(2, ""), s.Entries["b"].Stamp);
            Assert.Equal(Valued("name"), s.Entries["b"].Valued);          // the other columns of the confirmation too
            Assert.Null(s.Entries["c"].Stamp);

            var run = s.StartRun(new SyncRunStart { StartedUtc = t0 });
            s.Fail("a", "HTTP 500", "k-a");                               // a failed write: the record may not have changed
            s.KeysNotSeen(new[] { "a", "c", "d", "e", "f" }, t0.AddDays(1)); // b left the source
            s.RecordSourceHash("d", "sh-d");
            s.RecordValued("d", Valued("emails"));
            s.RecordOutcome(run, 1, "d", UpsertStatus.Unchanged, "k-d", null, null);
            s.FinishRun(run, new UpsertSummary { Total = 1, Unchanged = 1 }, SyncRunStatus.Succeeded, t0.AddMinutes(1));
            s.Confirm("e", "k-e", Hash(50), t0.AddDays(1));                // the record changed and Kustomer did not say how
            s.Confirm("f", "k-f", Hash(60), t0.AddDays(1), stamp: Stamp(7));
        }
        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.True(s.Entries["a"].HasError);
            Assert.Equal(Stamp(1), s.Entries["a"].Stamp);
            Assert.Equal(t0.AddDays(1), s.Entries["b"].GoneSince);
            Assert.Equal(Stamp(2, ""), s.Entries["b"].Stamp);
            Assert.Equal(Valued("emails"), s.Entries["d"].Valued);
            Assert.Equal(Stamp(4), s.Entries["d"].Stamp);
            Assert.Null(s.Entries["e"].Stamp);
            Assert.True(s.IsUnchanged("e", Hash(50)));
            Assert.Equal(Stamp(7), s.Entries["f"].Stamp);
        }
        Assert.Equal(DBNull.Value, h.Scalar($"SELECT record_stamp FROM {h.T("state")} WHERE record_key = 'e'"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void Record_stamps_of_many_keys_are_written_in_batches_and_survive_columns_set_in_the_same_flush(StateProvider provider)
    {
        using var h = new Harness(provider, o => o.FlushBatchSize = 400);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        using (var s = h.Store.Open(Sync()))
            for (var i = 0; i < 2500; i++) s.Confirm("c-" + i, "k-" + i, Hash(i), t0, stamp: i % 5 == 0 ? null : Stamp(i, "co-" + i));
        // A source hash or valued fields set after a confirmation, before any flush, join it: the stamp stays.
        using (var s = h.NewStore(o => o.FlushInterval = Timeout.InfiniteTimeSpan).Open(Sync()))
        {
            s.Confirm("c-1", "k-1", Hash(1001), t0, stamp: Stamp(8, "co-new"));
            s.RecordSourceHash("c-1", "sh-1");
            s.RecordValued("c-1", Valued("name"));
            Assert.Equal(1, s.PendingWrites);
        }
        using (var s = h.Store.Open(Sync()))
        {
            Assert.Equal(2500, s.Entries.Count);
            foreach (var i in Enumerable.Range(0, 2500).Where(i => i != 1))
                Assert.Equal(i % 5 == 0 ? null : Stamp(i, "co-" + i), s.Entries["c-" + i].Stamp);
            Assert.Equal(Stamp(8, "co-new"), s.Entries["c-1"].Stamp);
            Assert.Equal(Valued("name"), s.Entries["c-1"].Valued);
            Assert.True(s.IsUnchanged("c-1", Hash(1001)));
        }
        Assert.Equal("sh-1", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-1'"));
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_record_stamp_longer_than_the_store_keeps_is_refused_before_it_is_queued(StateProvider provider)
    {
        using var h = new Harness(provider);
        var t0 = new DateTime(2026, 12, 1, 6, 0, 0, DateTimeKind.Utc);
        var longest = new string('s', SyncState.MaxStampLength);
        using (var s = h.Store.Open(Sync()))
        {
            var ex = Assert.Throws<ArgumentException>(() => s.Confirm("too-long", "k-1", Hash(1), t0, stamp: longest + "x"));
            Assert.Equal("stamp", ex.ParamName);
            Assert.Contains("'too-long'", ex.Message);
            Assert.Equal(0, s.PendingWrites);
            s.Confirm("longest", "k-2", Hash(2), t0, stamp: longest);
        }
        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.Equal(longest, s.Entries["longest"].Stamp);
            Assert.False(s.Entries.ContainsKey("too-long"));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public void A_version_5_store_is_migrated_and_keeps_its_rows_without_stamps(StateProvider provider)
    {
        using var h = new Harness(provider);
        StateStores.CreateAtVersion(h.Store, 5);
        var at = provider == StateProvider.Sqlite ? "'2026-01-02T03:04:05.0000000Z'" : "'2026-01-02T03:04:05Z'";
        h.Exec($"INSERT INTO {h.T("state")} (sync_name, record_key, kustomer_id, payload_hash, source_hash, valued_fields, confirmed_at, attempts) " +
               $"VALUES ('customers', 'c-1', 'k-1', '{Hash(1)}', 'sh-1', 'name,phones', {at}, 0)");
        h.Exec($"INSERT INTO {h.T("state")} (sync_name, record_key, kustomer_id, last_error, attempts) VALUES ('customers', 'c-2', 'k-2', 'HTTP 500', 2)");
        Assert.Equal(5, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));

        using (var s = h.NewStore().Open(Sync()))
        {
            Assert.Equal(6, Convert.ToInt32(h.Scalar($"SELECT MAX(version) FROM {h.T("schema_version")}"), CultureInfo.InvariantCulture));
            var c1 = s.Entries["c-1"];
            Assert.Null(c1.Stamp);                                      // confirmed before v6: not known
            Assert.Equal("k-1", c1.KustomerId);
            Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), c1.ConfirmedAt);
            Assert.Equal(Valued("name", "phones"), c1.Valued);
            Assert.True(s.IsUnchanged("c-1", Hash(1)));
            Assert.True(s.Entries["c-2"].HasError);
            Assert.Equal(2, s.Entries["c-2"].Attempts);
            Assert.Null(s.Entries["c-2"].Stamp);
            s.Confirm("c-2", "k-2", Hash(2), DateTime.UtcNow, stamp: Stamp(3));
        }
        Assert.Equal("sh-1", h.Scalar($"SELECT source_hash FROM {h.T("state")} WHERE record_key = 'c-1'"));
        using (var s = h.NewStore().Open(Sync()))
            Assert.Equal(Stamp(3), s.Entries["c-2"].Stamp);
    }
}
