using System.Text.Json.Nodes;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// Companies. externalId is unique per org among non-deleted companies. There is no DELETE:
/// <c>PUT {"deleted": true}</c> marks a company deleted; it then answers 404, leaves lists and
/// lookups, and frees its externalId.
/// </summary>
public sealed class CompanyStore(Lock sync, ResourcePresenter presenter, TimeProvider clock, Func<long> nextSeq)
{
    private readonly RecordTable<CompanyRecord> _table = new();
    private readonly Dictionary<string, string> _byExternalId = new(StringComparer.Ordinal);

    public bool Exists(string id)
    {
        lock (sync) return _table.Get(id) is { Deleted: false };
    }

    public JsonObject Create(JsonObject body, string userId)
    {
        lock (sync)
        {
            var doc = DocumentMerge.NewDocument(body);
            CheckExternalId(doc, null);
            var now = clock.GetUtcNow();
            var r = new CompanyRecord
            {
                Id = ObjectIds.NewId(), Seq = nextSeq(), Doc = doc,
                CreatedAt = DocumentMerge.CreatedAtOf(body) ?? now, UpdatedAt = now, ModifiedBy = userId,
            };
            _table.Add(r);
            Index(r);
            return presenter.Company(r);
        }
    }

    public JsonObject Update(string id, JsonObject body, string userId)
    {
        lock (sync)
        {
            var r = Live(id);
            WriteChecks.Rev(body, r);
            var doc = DocumentMerge.Apply(r.Doc, body, WriteMode.Merge);
            var deleting = body["deleted"] is JsonValue d && d.GetValue<bool>();
            if (!deleting) CheckExternalId(doc, r.Id);
            Unindex(r);
            r.Revise(doc, body, userId, clock.GetUtcNow());
            r.Deleted = deleting;
            if (!r.Deleted) Index(r);
            return presenter.Company(r);
        }
    }

    public JsonObject Get(string id)
    {
        lock (sync) return presenter.Company(Live(id));
    }

    /// <summary>Companies in creation order, optionally filtered; deleted ones only when asked.</summary>
    public (int Total, List<JsonObject> Page) List(Func<CompanyRecord, bool> filter, int skip, int take)
    {
        lock (sync)
        {
            var all = _table.InOrder.Where(filter).ToList();
            return (all.Count, all.Skip(skip).Take(take).Select(presenter.Company).ToList());
        }
    }

    /// <summary>The stored record, deleted or not (for the inspection routes), or null.</summary>
    public CompanyRecord? Record(string id)
    {
        lock (sync) return _table.Get(id);
    }

    public List<CompanyRecord> Snapshot(bool includeDeleted)
    {
        lock (sync) return _table.InOrder.Where(c => includeDeleted || !c.Deleted).ToList();
    }

    public int Count(bool includeDeleted)
    {
        lock (sync) return includeDeleted ? _table.Count : _table.InOrder.Count(c => !c.Deleted);
    }

    public void Clear()
    {
        lock (sync) { _table.Clear(); _byExternalId.Clear(); }
    }

    private CompanyRecord Live(string id) =>
        _table.Get(id) is { Deleted: false } r ? r : throw ApiException.NotFound($"company {id} not found");

    private void CheckExternalId(JsonObject doc, string? selfId)
    {
        if (WriteChecks.RefId(doc, "externalId") is string ext && _byExternalId.TryGetValue(ext, out var owner) && owner != selfId)
            throw ApiException.Duplicate($"externalId '{ext}' already belongs to another company", owner, "/externalId");
    }

    private void Index(CompanyRecord r)
    {
        if (WriteChecks.RefId(r.Doc, "externalId") is string ext) _byExternalId[ext] = r.Id;
    }

    private void Unindex(CompanyRecord r)
    {
        if (WriteChecks.RefId(r.Doc, "externalId") is string ext && _byExternalId.GetValueOrDefault(ext) == r.Id) _byExternalId.Remove(ext);
    }
}
