using System.Collections.Concurrent;
using KustomerSync.Engine.Kustomer;
using KustomerSync.Engine.Sync;
using Microsoft.Extensions.Time.Testing;

namespace KustomerSync.Engine.Tests;

/// <summary>The dispatcher alone, with a writer that answers at once (or when told): no emulator and no wall clock.</summary>
public class WriteDispatcherTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);
    private static readonly UpsertOptions Options = new(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { ThrottleLimit = 4 };

    /// <summary>Answers each row with <see cref="Answer"/>; notes every request, and holds requests while <see cref="Gate"/> is not open.</summary>
    private sealed class FakeWriter : IRecordWriter
    {
        public Func<PlannedRecord, UpsertResult> Answer { get; set; } = p => RowResults.Done(RowResults.For(p.Record, Options), UpsertStatus.Created, "id-" + p.Record.Key);
        public ConcurrentQueue<int> Batches { get; } = new();
        public ConcurrentQueue<long> Singles { get; } = new();
        public TaskCompletionSource<bool> Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<bool> FirstBatch { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Held { get; set; }
        /// <summary>When set, each batch waits for a turn released here.</summary>
        public SemaphoreSlim? BatchTurns { get; init; }
        /// <summary>Released as each batch arrives.</summary>
        public SemaphoreSlim BatchesTaken { get; } = new(0);

        /// <summary>Which rows read their record first (none unless set).</summary>
        public Func<PlannedRecord, bool> Reads { get; init; } = _ => false;
        /// <summary>When set, reading ahead fails with it.</summary>
        public Exception? ReadFails { get; init; }
        /// <summary>The rows of each read ahead, in order.</summary>
        public ConcurrentQueue<long[]> ReadAheads { get; } = new();
        /// <summary>Released as each read ahead arrives.</summary>
        public SemaphoreSlim ReadsTaken { get; } = new(0);
        /// <summary>Released as each single write arrives.</summary>
        public SemaphoreSlim WritesTaken { get; } = new(0);
        /// <summary>The record each row's write was handed (null: none read ahead).</summary>
        public ConcurrentDictionary<long, FoundRecord?> HandedRecord { get; } = new();

        public bool ReadsFirst(PlannedRecord planned) => Reads(planned);

        public Task<IReadOnlyList<FoundRecord?>> ReadAheadAsync(IReadOnlyList<PlannedRecord> rows, CancellationToken cancellationToken)
        {
            ReadAheads.Enqueue(rows.Select(r => r.Record.Input.Row).ToArray());
            ReadsTaken.Release();
            if (ReadFails is not null) throw ReadFails;
            return Task.FromResult<IReadOnlyList<FoundRecord?>>(rows.Select(r => FoundRecord.FromResource(new System.Text.Json.Nodes.JsonObject { ["id"] = "id-" + r.Record.Key })).ToList());
        }

        public async Task<UpsertResult> WriteAsync(PlannedRecord planned, FoundRecord? readAhead, CancellationToken cancellationToken)
        {
            HandedRecord[planned.Record.Input.Row] = readAhead;
            WritesTaken.Release();
            Singles.Enqueue(planned.Record.Input.Row);
            if (Held) await Gate.Task.WaitAsync(cancellationToken);
            return Answer(planned);
        }

        public async Task<IReadOnlyList<(PlannedRecord Planned, UpsertResult Result)>> WriteBatchAsync(IReadOnlyList<PlannedRecord> batch, CancellationToken cancellationToken)
        {
            Batches.Enqueue(batch.Count);
            FirstBatch.TrySetResult(true);
            BatchesTaken.Release();
            if (BatchTurns is not null) await BatchTurns.WaitAsync(cancellationToken);
            return batch.Select(p => (p, Answer(p))).ToList();
        }
    }

    private static PlannedRecord Row(long row) =>
        new(new MappedRecord(new InputRecord(row, new[] { "externalId" }, new object?[] { $"k-{row}" }, null), $"k-{row}", new System.Text.Json.Nodes.JsonObject(),
            Array.Empty<RecordReference>()), null, default, null);

    private static WriteDispatcher Dispatcher(FakeWriter writer, bool bulk, ResultSequence results, Action<PlannedRecord, UpsertResult>? settle = null,
        TimeProvider? clock = null, UpsertOptions? options = null, CancellationToken cancellationToken = default) =>
        new(writer, options ?? Options, bulk, settle ?? ((_, _) => { }), results, text => text, clock ?? new FakeTimeProvider(), cancellationToken);

    private static async Task<List<UpsertResult>> DrainAsync(ResultSequence results)
    {
        var all = new List<UpsertResult>();
        await foreach (var result in results.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Hang).Token)) all.Add(result);
        return all;
    }

    [Fact]
    public async Task A_row_waiting_for_room_gives_its_caller_turns_to_report_until_a_worker_takes_it()
    {
        var writer = new FakeWriter { Held = true };
        var results = new ResultSequence(new UpsertSummary());
        using var dispatcher = Dispatcher(writer, bulk: false, results, options: new UpsertOptions(KustomerObject.Customer, RecordKey.Parse("ExternalId", KustomerObject.Customer)) { ThrottleLimit = 1 });
        var turns = 0;
        var reported = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        // Row 1 holds the one worker, row 2 waits for it, row 3 is on its way there (the read-ahead stage holds it) and row 4
        // fills the input channel: row 5 must wait, and its caller gets turns meanwhile.
        var submitting = Task.Run(() =>
        {
            for (var row = 1; row <= 5; row++)
                dispatcher.Submit(Row(row), () =>
                {
                    if (Interlocked.Increment(ref turns) == 2) reported.TrySetResult(true);
                });
            dispatcher.Complete();
        });
        await reported.Task.WaitAsync(Hang);
        Assert.False(submitting.IsCompleted);
        writer.Gate.TrySetResult(true);
        await submitting.WaitAsync(Hang);

        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, (await DrainAsync(results)).Select(r => r.Row));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_row_yields_exactly_one_result_in_input_order_even_when_settling_throws(bool bulk)
    {
        var writer = new FakeWriter();
        var summary = new UpsertSummary();
        var results = new ResultSequence(summary);
        var settled = 0;
        using var dispatcher = Dispatcher(writer, bulk, results, (planned, _) =>
        {
            Interlocked.Increment(ref settled);
            if (planned.Record.Input.Row % 3 == 0) throw new State.StateException(Diagnostics.ErrorIds.StateWriteFailed, "the state database is read-only");
        });

        // Off the test's thread: a dispatcher whose workers died would leave Submit waiting on a full channel.
        await Task.Run(() =>
        {
            for (var row = 1; row <= 250; row++) dispatcher.Submit(Row(row));
            dispatcher.Complete();
        }).WaitAsync(Hang);
        var all = await DrainAsync(results);

        Assert.Equal(250, settled);
        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), all.Select(r => r.Row));
        Assert.Equal(250, summary.Total);
        Assert.Equal(83, summary.Failed);
        var failed = all.Where(r => r.Status == UpsertStatus.Failed).ToList();
        Assert.All(failed, r => Assert.Equal(0, r.Row % 3));
        Assert.All(failed, r => Assert.Equal("KustomerSync.StateWriteFailed", r.ErrorId));
        Assert.Contains("ended Created, but the state store could not record it: the state database is read-only", failed[0].Message);
        Assert.Equal("id-k-3", failed[0].KustomerId);
        Assert.Equal(0, dispatcher.InFlight);
    }

    [Fact]
    public async Task Bulk_rows_go_in_batches_of_a_hundred_and_a_last_batch_too_small_for_a_job_goes_row_by_row()
    {
        var writer = new FakeWriter();
        var results = new ResultSequence(new UpsertSummary());
        // A clock that never moves: no batch is ever sent for being idle.
        using var dispatcher = Dispatcher(writer, bulk: true, results);

        for (var row = 1; row <= 215; row++) dispatcher.Submit(Row(row));
        dispatcher.Complete();
        var all = await DrainAsync(results);

        Assert.Equal(215, all.Count);
        Assert.Equal(new[] { 100, 100 }, writer.Batches);
        Assert.Equal(Enumerable.Range(201, 15).Select(i => (long)i), writer.Singles.OrderBy(r => r));
    }

    [Fact]
    public async Task A_partial_bulk_batch_goes_once_rows_stop_arriving_for_the_idle_time_on_the_injected_clock()
    {
        var writer = new FakeWriter();
        var results = new ResultSequence(new UpsertSummary());
        var clock = new BulkClock();
        using var dispatcher = Dispatcher(writer, bulk: true, results, clock: clock, options: new UpsertOptions(Options.Target, Options.Key) { BulkMinimum = 1 });

        for (var row = 1; row <= 5; row++) dispatcher.Submit(Row(row));
        // The clock moves only to the waits the dispatcher starts; the input is never completed.
        await clock.RunAsync(writer.FirstBatch.Task).WaitAsync(Hang);

        Assert.Equal(new[] { 5 }, writer.Batches);
        Assert.True(clock.Elapsed >= WriteDispatcher.IdleFlush, $"sent after {clock.Elapsed}");
        using var hang = new CancellationTokenSource(Hang);
        for (var row = 1; row <= 5; row++) Assert.Equal(row, (await results.Reader.ReadAsync(hang.Token)).Row);
    }

    [Fact]
    public async Task A_partial_bulk_batch_is_not_sent_early_while_every_writer_is_busy_so_rows_that_come_later_still_fill_it()
    {
        var writer = new FakeWriter { BatchTurns = new SemaphoreSlim(0) };
        var results = new ResultSequence(new UpsertSummary());
        var clock = new WatchedIdleClock();
        using var dispatcher = Dispatcher(writer, bulk: true, results, clock: clock, options: new UpsertOptions(Options.Target, Options.Key) { ThrottleLimit = 1 });

        // Batch 1 holds the one writer, batch 2 is ready behind it, and 30 rows wait.
        for (var row = 1; row <= 230; row++) dispatcher.Submit(Row(row));
        Assert.True(await writer.BatchesTaken.WaitAsync(Hang));
        writer.BatchTurns.Release();
        Assert.True(await writer.BatchesTaken.WaitAsync(Hang));
        // The writer is busy with batch 2 and the 30 rows wait for more on the idle clock; the idle time passes.
        Assert.True(await Task.Run(() => clock.AwaitAWait(Hang)), "the 30 rows never waited on the idle clock");
        clock.Advance(WriteDispatcher.IdleFlush);
        for (var row = 231; row <= 300; row++) dispatcher.Submit(Row(row));
        writer.BatchTurns.Release(10);
        dispatcher.Complete();
        var all = await DrainAsync(results);

        Assert.Equal(300, all.Count);
        Assert.Equal(new[] { 100, 100, 100 }, writer.Batches);
        Assert.Empty(writer.Singles);
    }

    [Fact]
    public async Task Rows_that_read_their_record_first_are_read_twenty_at_a_time_and_the_others_go_straight_on()
    {
        var writer = new FakeWriter { Reads = p => p.Record.Input.Row % 2 == 0 };
        var results = new ResultSequence(new UpsertSummary());
        using var dispatcher = Dispatcher(writer, bulk: false, results, clock: new WatchedIdleClock());

        for (var row = 1; row <= 90; row++) dispatcher.Submit(Row(row));
        dispatcher.Complete();
        var all = await DrainAsync(results);

        Assert.Equal(90, all.Count);
        // 45 even rows: two full reads of 20 while rows came, and the last 5 when the input ended (the idle clock never moved).
        Assert.Equal(new[] { 20, 20, 5 }, writer.ReadAheads.Select(r => r.Length));
        Assert.Equal(Enumerable.Range(1, 45).Select(i => 2L * i), writer.ReadAheads.SelectMany(r => r));
        Assert.All(Enumerable.Range(1, 90), row => Assert.Equal(row % 2 == 0 ? "id-k-" + row : null, writer.HandedRecord[row]?.Id));
    }

    [Fact]
    public async Task Rows_waiting_to_be_read_ahead_are_read_once_rows_stop_arriving_for_the_idle_time_on_the_injected_clock()
    {
        var writer = new FakeWriter { Reads = _ => true };
        var results = new ResultSequence(new UpsertSummary());
        var clock = new WatchedIdleClock();
        using var dispatcher = Dispatcher(writer, bulk: false, results, clock: clock);

        for (var row = 1; row <= 3; row++) dispatcher.Submit(Row(row));
        Assert.True(await Task.Run(() => clock.AwaitAWait(Hang)), "the rows never waited on the idle clock");
        Assert.Empty(writer.ReadAheads);
        clock.Advance(WriteDispatcher.IdleFlush);
        Assert.True(await writer.ReadsTaken.WaitAsync(Hang));
        using var hang = new CancellationTokenSource(Hang);
        // The input is still open: the rows were read and written because the source went quiet, not because it ended.
        for (var row = 1; row <= 3; row++) Assert.Equal(row, (await results.Reader.ReadAsync(hang.Token)).Row);
        Assert.Equal(new long[] { 1, 2, 3 }, Assert.Single(writer.ReadAheads));
    }

    [Fact]
    public async Task A_row_waiting_to_be_read_ahead_while_other_rows_keep_coming_is_read_after_the_longest_wait()
    {
        var writer = new FakeWriter { Reads = p => p.Record.Input.Row == 1 };
        var results = new ResultSequence(new UpsertSummary());
        var clock = new WatchedIdleClock();
        using var dispatcher = Dispatcher(writer, bulk: false, results, clock: clock);
        var step = TimeSpan.FromTicks(WriteDispatcher.IdleFlush.Ticks / 2);
        var steps = (int)(WriteDispatcher.MaxReadAheadWait.Ticks / step.Ticks);

        dispatcher.Submit(Row(1));
        Assert.True(await Task.Run(() => clock.AwaitAWait(Hang)), "row 1 never waited on the idle clock");
        // A row that reads nothing comes every half idle time, so the source never goes quiet.
        for (var i = 1; i <= steps; i++)
        {
            Assert.Empty(writer.ReadAheads);
            clock.Advance(step);
            dispatcher.Submit(Row(1 + i));
            Assert.True(await writer.WritesTaken.WaitAsync(Hang));
        }
        Assert.True(await writer.ReadsTaken.WaitAsync(Hang));
        Assert.Equal(new long[] { 1 }, Assert.Single(writer.ReadAheads));
        dispatcher.Complete();
        Assert.Equal(Enumerable.Range(1, steps + 1).Select(i => (long)i), (await DrainAsync(results)).Select(r => r.Row));
    }

    [Fact]
    public async Task A_read_ahead_that_fails_leaves_every_row_its_own_read_and_each_row_still_gets_its_result()
    {
        var writer = new FakeWriter { Reads = _ => true, ReadFails = new KustomerException("KustomerSync.ServerError", "search is down") };
        var results = new ResultSequence(new UpsertSummary());
        using var dispatcher = Dispatcher(writer, bulk: false, results, clock: new WatchedIdleClock());

        for (var row = 1; row <= 25; row++) dispatcher.Submit(Row(row));
        dispatcher.Complete();
        var all = await DrainAsync(results);

        Assert.Equal(Enumerable.Range(1, 25).Select(i => (long)i), all.Select(r => r.Row).OrderBy(r => r));
        Assert.All(all, r => Assert.Equal(UpsertStatus.Created, r.Status));
        Assert.Equal(new[] { 20, 5 }, writer.ReadAheads.Select(r => r.Length));
        Assert.All(writer.HandedRecord.Values, Assert.Null);
    }

    [Fact]
    public async Task Three_rows_in_a_row_that_cannot_reach_Kustomer_stop_the_run_and_the_rest_are_not_attempted()
    {
        var writer = new FakeWriter
        {
            Answer = p => RowResults.Fail(RowResults.For(p.Record, Options), "KustomerSync.ConnectionFailed", "connection refused", null),
        };
        var results = new ResultSequence(new UpsertSummary());
        using var dispatcher = Dispatcher(writer, bulk: false, results, options: new UpsertOptions(Options.Target, Options.Key) { ThrottleLimit = 1 });

        // One worker: rows are written in order, so the third failure stops the run before row 4 is taken.
        for (var row = 1; row <= 6; row++) dispatcher.Submit(Row(row));
        dispatcher.Complete();
        var all = await DrainAsync(results);

        Assert.Equal("KustomerSync.ConnectionFailed", dispatcher.Fault!.ErrorId);
        Assert.Equal(new long[] { 1, 2, 3 }, all.Where(r => r.ErrorId == "KustomerSync.ConnectionFailed").Select(r => r.Row));
        Assert.Equal(3, all.Count(r => r.ErrorId == "KustomerSync.NotAttempted"));
        Assert.Equal(6, all.Count);
    }

    [Fact]
    public async Task Dispose_stops_the_writes_in_flight_and_waits_for_the_workers_to_settle_them()
    {
        var writer = new FakeWriter { Held = true };
        var results = new ResultSequence(new UpsertSummary());
        var settled = new ConcurrentQueue<long>();
        var dispatcher = Dispatcher(writer, bulk: false, results, (p, _) => settled.Enqueue(p.Record.Input.Row));
        for (var row = 1; row <= 6; row++) dispatcher.Submit(Row(row));

        dispatcher.Dispose();

        Assert.Equal(6, settled.Count);
        var all = await DrainAsync(results);
        Assert.Equal(6, all.Count);
        Assert.All(all, r => Assert.Equal("KustomerSync.Cancelled", r.ErrorId));
    }
}
