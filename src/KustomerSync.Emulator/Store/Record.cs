using System.Text.Json.Nodes;

namespace KustomerSync.Emulator.Store;

/// <summary>A stored object: its validated writable attributes (<see cref="Doc"/>) plus server-managed fields.</summary>
public class Record
{
    public required string Id { get; init; }
    /// <summary>Insertion order, for stable listing.</summary>
    public required long Seq { get; init; }
    public required JsonObject Doc { get; set; }
    public required DateTimeOffset CreatedAt { get; set; }
    public required DateTimeOffset UpdatedAt { get; set; }
    public long Rev { get; set; } = 1;
    public required string ModifiedBy { get; set; }

    /// <summary>Stores a write's new document: createdAt when the body sets it, updatedAt now, the next rev, the writer.</summary>
    public void Revise(JsonObject doc, JsonObject body, string userId, DateTimeOffset now)
    {
        Doc = doc;
        if (DocumentMerge.CreatedAtOf(body) is { } created) CreatedAt = created;
        UpdatedAt = now;
        Rev++;
        ModifiedBy = userId;
    }
}

public sealed class CustomerRecord : Record;

public sealed class CompanyRecord : Record
{
    public bool Deleted { get; set; }
}

public sealed class KObjectRecord : Record
{
    public required string Klass { get; init; }
}

/// <summary>Records by id and in insertion order. Not thread-safe: used under the data lock.</summary>
public sealed class RecordTable<T> where T : Record
{
    private readonly Dictionary<string, T> _byId = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, T> _bySeq = new();

    public int Count => _byId.Count;
    public T? Get(string id) => _byId.GetValueOrDefault(id);
    public void Add(T record) { _byId.Add(record.Id, record); _bySeq.Add(record.Seq, record); }
    public bool Remove(string id)
    {
        if (!_byId.Remove(id, out var r)) return false;
        _bySeq.Remove(r.Seq);
        return true;
    }
    public IEnumerable<T> InOrder => _bySeq.Values;
    public void Clear() { _byId.Clear(); _bySeq.Clear(); }
}

/// <summary>Write modes of §4.2: merge (PATCH, PUT?replace=false) or replace the document (PUT?replace=true).</summary>
public enum WriteMode { Merge, Replace }
