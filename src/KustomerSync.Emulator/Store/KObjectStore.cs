using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// Klasses and their KObjects. KObject externalId is unique per klass. A disabled klass takes no new KObjects.
/// </summary>
public sealed partial class KObjectStore(Lock sync, ResourcePresenter presenter, CustomerStore customers, CompanyStore companies,
    MetadataStore metadata, TimeProvider clock, Func<long> nextSeq)
{
    private sealed class KlassBucket(Klass klass)
    {
        public Klass Klass { get; } = klass;
        public RecordTable<KObjectRecord> Table { get; } = new();
        public Dictionary<string, string> ByExternalId { get; } = new(StringComparer.Ordinal);
    }

    private readonly Dictionary<string, KlassBucket> _buckets = new(StringComparer.Ordinal);

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    public static partial Regex KlassNamePattern();

    // ---- klasses ----

    public JsonObject DefineKlass(string name, string? displayName, string? icon, string? color, string? description, string status)
    {
        lock (sync)
        {
            if (_buckets.ContainsKey(name))
                throw new ApiException(409, "conflict", "Conflict", $"klass '{name}' already exists") { Pointer = "/name" };
            var now = clock.GetUtcNow();
            var k = new Klass
            {
                Id = ObjectIds.NewId(), Name = name, DisplayName = displayName ?? name, Icon = icon, Color = color,
                Description = description, Status = status, CreatedAt = now, UpdatedAt = now,
            };
            _buckets[name] = new KlassBucket(k);
            if (metadata.Get("kobject." + name) is null)
                metadata.Set(new MetadataResource { Name = "kobject." + name, Properties = new Dictionary<string, JsonObject>() });
            return presenter.Klass(k);
        }
    }

    public bool KlassExists(string name)
    {
        lock (sync) return _buckets.ContainsKey(name);
    }

    public Klass? FindKlass(string nameOrId)
    {
        lock (sync)
            return _buckets.GetValueOrDefault(nameOrId)?.Klass ?? _buckets.Values.FirstOrDefault(b => b.Klass.Id == nameOrId)?.Klass;
    }

    /// <summary>Changes a klass's status (enabled, disabled, existing_only); the inspection route uses it.</summary>
    public JsonObject SetKlassStatus(string name, string status)
    {
        lock (sync)
        {
            var k = Bucket(name).Klass;
            k.Status = status;
            k.UpdatedAt = clock.GetUtcNow();
            return presenter.Klass(k);
        }
    }

    public (int Total, List<JsonObject> Page) ListKlasses(string status, int skip, int take)
    {
        lock (sync)
        {
            var all = _buckets.Values.Select(b => b.Klass).Where(k => k.Status == status).OrderBy(k => k.CreatedAt).ThenBy(k => k.Name).ToList();
            return (all.Count, all.Skip(skip).Take(take).Select(presenter.Klass).ToList());
        }
    }

    public JsonObject PresentKlass(Klass k)
    {
        lock (sync) return presenter.Klass(k);
    }

    // ---- kobjects ----

    public JsonObject Create(string klass, JsonObject body, string userId)
    {
        lock (sync)
        {
            var b = Bucket(klass);
            if (b.Klass.Status == "disabled") throw ApiException.BadRequest($"klass '{klass}' is disabled");
            var doc = DocumentMerge.NewDocument(body);
            CheckReferences(doc);
            CheckExternalId(b, doc, null);
            var now = clock.GetUtcNow();
            var r = new KObjectRecord
            {
                Id = ObjectIds.NewId(), Seq = nextSeq(), Klass = klass, Doc = doc,
                CreatedAt = DocumentMerge.CreatedAtOf(body) ?? now, UpdatedAt = now, ModifiedBy = userId,
            };
            b.Table.Add(r);
            if (WriteChecks.RefId(doc, "externalId") is string ext) b.ByExternalId[ext] = r.Id;
            return presenter.KObject(r);
        }
    }

    public JsonObject Update(string klass, string id, JsonObject body, string userId)
    {
        lock (sync)
        {
            var b = Bucket(klass);
            var r = b.Table.Get(id) ?? throw ApiException.NotFound($"kobject {id} not found in klass {klass}");
            WriteChecks.Rev(body, r);
            var doc = DocumentMerge.Apply(r.Doc, body, WriteMode.Merge);
            CheckExternalId(b, doc, r.Id);
            if (WriteChecks.RefId(r.Doc, "externalId") is string old && b.ByExternalId.GetValueOrDefault(old) == r.Id) b.ByExternalId.Remove(old);
            r.Revise(doc, body, userId, clock.GetUtcNow());
            if (WriteChecks.RefId(doc, "externalId") is string ext) b.ByExternalId[ext] = r.Id;
            return presenter.KObject(r);
        }
    }

    public void Delete(string klass, string id)
    {
        lock (sync)
        {
            var b = Bucket(klass);
            var r = b.Table.Get(id) ?? throw ApiException.NotFound($"kobject {id} not found in klass {klass}");
            if (WriteChecks.RefId(r.Doc, "externalId") is string ext && b.ByExternalId.GetValueOrDefault(ext) == r.Id) b.ByExternalId.Remove(ext);
            b.Table.Remove(id);
        }
    }

    public JsonObject Get(string klass, string id)
    {
        lock (sync)
            return presenter.KObject(Bucket(klass).Table.Get(id) ?? throw ApiException.NotFound($"kobject {id} not found in klass {klass}"));
    }

    public JsonObject GetByExternalId(string klass, string externalId)
    {
        lock (sync)
        {
            var b = Bucket(klass);
            if (b.ByExternalId.TryGetValue(externalId, out var id) && b.Table.Get(id) is { } r) return presenter.KObject(r);
            throw ApiException.NotFound($"kobject with externalId '{externalId}' not found in klass {klass}");
        }
    }

    public (int Total, List<JsonObject> Page) List(string klass, DateTimeOffset? fromDate, int skip, int take)
    {
        lock (sync)
        {
            var all = Bucket(klass).Table.InOrder.Where(r => fromDate is null || r.UpdatedAt >= fromDate).ToList();
            return (all.Count, all.Skip(skip).Take(take).Select(presenter.KObject).ToList());
        }
    }

    /// <summary>The stored record (for the inspection routes), or null.</summary>
    public KObjectRecord? Record(string klass, string id)
    {
        lock (sync) return _buckets.GetValueOrDefault(klass)?.Table.Get(id);
    }

    /// <summary>The klass's KObjects linked to <paramref name="customerId"/>, in creation order.</summary>
    public (int Total, List<JsonObject> Page) ListForCustomer(string klass, string customerId, int skip, int take)
    {
        lock (sync)
        {
            var all = Bucket(klass).Table.InOrder.Where(r => WriteChecks.RefId(r.Doc, "customer") == customerId).ToList();
            return (all.Count, all.Skip(skip).Take(take).Select(presenter.KObject).ToList());
        }
    }

    public List<KObjectRecord> Snapshot(string? klass)
    {
        lock (sync)
            return klass is null
                ? _buckets.Values.SelectMany(b => b.Table.InOrder).ToList()
                : Bucket(klass).Table.InOrder.ToList();
    }

    public IReadOnlyList<string> KlassNames()
    {
        lock (sync) return _buckets.Keys.Order(StringComparer.Ordinal).ToList();
    }

    public int Count(string klass)
    {
        lock (sync) return _buckets.TryGetValue(klass, out var b) ? b.Table.Count : 0;
    }

    public void Clear()
    {
        lock (sync) _buckets.Clear();
    }

    private KlassBucket Bucket(string klass) =>
        _buckets.GetValueOrDefault(klass) ?? throw ApiException.NotFound($"klass '{klass}' not found");

    private void CheckReferences(JsonObject doc)
    {
        if (WriteChecks.RefId(doc, "customer") is string cu && !customers.Exists(cu)) throw WriteChecks.MissingReference("customer", "customer", cu);
        if (WriteChecks.RefId(doc, "company") is string co && !companies.Exists(co)) throw WriteChecks.MissingReference("company", "company", co);
    }

    private static void CheckExternalId(KlassBucket b, JsonObject doc, string? selfId)
    {
        if (WriteChecks.RefId(doc, "externalId") is string ext && b.ByExternalId.TryGetValue(ext, out var owner) && owner != selfId)
            throw ApiException.Duplicate($"externalId '{ext}' already belongs to another kobject of klass {b.Klass.Name}", owner, "/externalId");
    }
}
