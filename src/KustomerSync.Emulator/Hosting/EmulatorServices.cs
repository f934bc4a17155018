using KustomerSync.Emulator.Auth;
using KustomerSync.Emulator.Bulk;
using KustomerSync.Emulator.Faults;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Inspection;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.RateLimiting;
using KustomerSync.Emulator.Store;
using KustomerSync.Emulator.Time;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Hosting;

/// <summary>The composition root: one instance of every emulator service, shared by middleware and routes.</summary>
public sealed class EmulatorServices
{
    public EmulatorServices(EmulatorOptions options)
    {
        Options = new LiveOptions(options);
        Clock = new EmulatorClock(options.TimeProvider ?? TimeProvider.System);
        Keys = new KeyStore(options);
        OrgId = ObjectIds.FromName("org:" + options.Org);
        Presenter = new ResourcePresenter(OrgId);
        Store = new DataStore(Presenter, Clock, MetadataSeed.Load(options.MetadataPath));
        Schemas = new Schemas(Store.Metadata);
        Body = new RequestBody(Options);
        RateLimiter = new RateLimiter(Options, Clock);
        RecordLimits = new RecordLimits(Options, Clock);
        Bulk = new BulkProcessor(Store, Options, RecordLimits, Clock);
        Faults = new FaultInjector(Options);
        Stats = new RequestStats();
    }

    public LiveOptions Options { get; }
    /// <summary>The emulator clock (see <see cref="EmulatorClock"/>); never goes back, not even on reset.</summary>
    public EmulatorClock Clock { get; }
    public string OrgId { get; }
    public KeyStore Keys { get; }
    public ResourcePresenter Presenter { get; }
    public DataStore Store { get; }
    public Schemas Schemas { get; }
    public RequestBody Body { get; }
    public RateLimiter RateLimiter { get; }
    public RecordLimits RecordLimits { get; }
    public BulkProcessor Bulk { get; }
    public FaultInjector Faults { get; }
    public RequestStats Stats { get; }

    /// <summary>POST /_emulator/reset: data, counters, rate windows and pending faults; options stay.</summary>
    public void Reset()
    {
        Store.Reset();
        RateLimiter.Reset();
        RecordLimits.Reset();
        Faults.Reset();
        Stats.Reset();
    }
}
