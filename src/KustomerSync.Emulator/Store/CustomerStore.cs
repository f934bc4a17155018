using System.Text.Json.Nodes;
using KustomerSync.Emulator.Http;
using KustomerSync.Emulator.Presentation;
using KustomerSync.Emulator.Validation;

namespace KustomerSync.Emulator.Store;

/// <summary>
/// Customers with an org-wide unique-identifier index (see <see cref="CustomerIdentities"/>).
/// Every check-and-write happens under the one data lock, so concurrent writers cannot both
/// claim the same email, phone or externalId.
/// </summary>
public sealed class CustomerStore(Lock sync, ResourcePresenter presenter, CompanyStore companies, TimeProvider clock, Func<long> nextSeq)
{
    private readonly RecordTable<CustomerRecord> _table = new();
    private readonly Dictionary<string, string> _identities = new(StringComparer.Ordinal);

    public int Count { get { lock (sync) return _table.Count; } }

    public bool Exists(string id)
    {
        lock (sync) return _table.Get(id) is not null;
    }

    public JsonObject Create(JsonObject body, string userId)
    {
        lock (sync)
        {
            var doc = DocumentMerge.NewDocument(body);
            CheckCompany(doc);
            CheckIdentities(doc, null);
            var now = clock.GetUtcNow();
            var r = new CustomerRecord
            {
                Id = ObjectIds.NewId(), Seq = nextSeq(), Doc = doc,
                CreatedAt = DocumentMerge.CreatedAtOf(body) ?? now, UpdatedAt = now, ModifiedBy = userId,
            };
            _table.Add(r);
            Index(r);
            return presenter.Customer(r);
        }
    }

    /// <summary>
    /// Updates a customer. With <paramref name="unlinkCompanyOnOmit"/>, a merge whose body has no <c>company</c>
    /// unlinks the company (§4.2: "If you omit the company, the customer will no longer be linked to the company").
    /// </summary>
    public JsonObject Update(string id, JsonObject body, WriteMode mode, bool unlinkCompanyOnOmit, string userId)
    {
        lock (sync)
        {
            var r = _table.Get(id) ?? throw ApiException.NotFound($"customer {id} not found");
            WriteChecks.Rev(body, r);
            var doc = DocumentMerge.Apply(r.Doc, body, mode);
            if (unlinkCompanyOnOmit && !body.ContainsKey("company")) doc.Remove("company");
            if (body.ContainsKey("company")) CheckCompany(doc);
            CheckIdentities(doc, r.Id);
            Unindex(r);
            r.Revise(doc, body, userId, clock.GetUtcNow());
            Index(r);
            return presenter.Customer(r);
        }
    }

    public void Delete(string id)
    {
        lock (sync)
        {
            var r = _table.Get(id) ?? throw ApiException.NotFound($"customer {id} not found");
            Unindex(r);
            _table.Remove(id);
        }
    }

    public JsonObject Get(string id)
    {
        lock (sync) return presenter.Customer(_table.Get(id) ?? throw ApiException.NotFound($"customer {id} not found"));
    }

    /// <summary>Looks a customer up by an identity key (<see cref="CustomerIdentities.EmailKey"/> etc.).</summary>
    public JsonObject GetByIdentity(string key, string what)
    {
        lock (sync)
        {
            if (_identities.TryGetValue(key, out var id) && _table.Get(id) is { } r) return presenter.Customer(r);
            throw ApiException.NotFound($"customer with {what} not found");
        }
    }

    public (int Total, List<JsonObject> Page) List(int skip, int take)
    {
        lock (sync) return (_table.Count, _table.InOrder.Skip(skip).Take(take).Select(presenter.Customer).ToList());
    }

    /// <summary>The stored record (for the inspection routes), or null.</summary>
    public CustomerRecord? Record(string id)
    {
        lock (sync) return _table.Get(id);
    }

    public List<CustomerRecord> Snapshot()
    {
        lock (sync) return _table.InOrder.ToList();
    }

    public void Clear()
    {
        lock (sync) { _table.Clear(); _identities.Clear(); }
    }

    private void CheckCompany(JsonObject doc)
    {
        if (WriteChecks.RefId(doc, "company") is string companyId && !companies.Exists(companyId))
            throw WriteChecks.MissingReference("company", "company", companyId);
    }

    private void CheckIdentities(JsonObject doc, string? selfId)
    {
        foreach (var identity in CustomerIdentities.Of(doc))
            if (_identities.TryGetValue(identity.Key, out var owner) && owner != selfId)
                throw ApiException.Duplicate(
                    $"{Rules.PathOf(identity.Pointer)} '{identity.Value}' already belongs to another customer", owner, identity.Pointer);
    }

    private void Index(CustomerRecord r)
    {
        foreach (var identity in CustomerIdentities.Of(r.Doc)) _identities[identity.Key] = r.Id;
    }

    private void Unindex(CustomerRecord r)
    {
        foreach (var identity in CustomerIdentities.Of(r.Doc))
            if (_identities.GetValueOrDefault(identity.Key) == r.Id) _identities.Remove(identity.Key);
    }
}
