using System.Threading.Channels;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Puts a run's results back in input order (row 1, 2, ...) and hands them out as a stream: a result that finishes
/// early waits for the rows before it. Each result is counted into the summary as it joins the stream.
/// </summary>
public sealed class ResultSequence
{
    private readonly Channel<UpsertResult> _ordered = Channel.CreateUnbounded<UpsertResult>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<long, UpsertResult> _early = new();
    private readonly UpsertSummary _summary;
    private long _next = 1;

    public ResultSequence(UpsertSummary summary) => _summary = summary;

    /// <summary>The results in input order; complete once <see cref="Complete"/> was called and every result read.</summary>
    public ChannelReader<UpsertResult> Reader => _ordered.Reader;

    public void Add(UpsertResult result)
    {
        lock (_early)
        {
            if (result.Row != _next)
            {
                _early.Add(result.Row, result);
                return;
            }
            Write(result);
            while (_early.TryGetValue(_next, out var waiting))
            {
                _early.Remove(_next);
                Write(waiting);
            }
        }
    }

    /// <summary>Runs <paramref name="read"/> while no result joins the stream, so the counts it reads belong together.</summary>
    public T Counted<T>(Func<UpsertSummary, T> read)
    {
        lock (_early) return read(_summary);
    }

    /// <summary>No more results will come: what still waits for an earlier row goes out in order, and the stream ends.</summary>
    public void Complete()
    {
        lock (_early)
        {
            foreach (var waiting in _early.Values.OrderBy(r => r.Row).ToList()) Write(waiting);
            _early.Clear();
            _ordered.Writer.TryComplete();
        }
    }

    private void Write(UpsertResult result)
    {
        _summary.Count(result.Status);
        _next = result.Row + 1;
        _ordered.Writer.TryWrite(result);
    }
}
