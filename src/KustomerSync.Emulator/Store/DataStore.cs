using KustomerSync.Emulator.Presentation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// The in-memory org: customers, companies, klasses/kobjects, metadata and bulk jobs. One lock
/// (<see cref="Sync"/>, re-entrant) guards every read-check-write, which keeps uniqueness race-free;
/// operations take microseconds, so one lock is not a bottleneck at the required throughput.
/// </summary>
public sealed class DataStore
{
    private long _seq;

    public Lock Sync { get; } = new();
    public MetadataStore Metadata { get; } = new();
    public CompanyStore Companies { get; }
    public CustomerStore Customers { get; }
    public KObjectStore KObjects { get; }
    public BulkJobStore BulkJobs { get; }

    private readonly MetadataSeed _seed;

    public DataStore(ResourcePresenter presenter, TimeProvider clock, MetadataSeed seed)
    {
        _seed = seed;
        Func<long> nextSeq = () => Interlocked.Increment(ref _seq);
        Companies = new CompanyStore(Sync, presenter, clock, nextSeq);
        Customers = new CustomerStore(Sync, presenter, Companies, clock, nextSeq);
        KObjects = new KObjectStore(Sync, presenter, Customers, Companies, Metadata, clock, nextSeq);
        BulkJobs = new BulkJobStore();
        Reset();
    }

    /// <summary>Clears all data and re-applies the metadata seed (klasses and custom attributes).</summary>
    public void Reset()
    {
        lock (Sync)
        {
            BulkJobs.Clear();
            Customers.Clear();
            Companies.Clear();
            KObjects.Clear();
            Metadata.Clear();
            _seed.ApplyTo(this);
        }
    }
}
