using System.Collections.Concurrent;
using KustomerSync.Engine.Kustomer;

namespace KustomerSync.Engine.Sync;

/// <summary>
/// Turns references (a customer's company by externalId, a KObject's customer by externalId or email) into Kustomer
/// ids before a record is written. Each distinct key is looked up once per run, however many rows name it.
/// </summary>
public sealed class ReferenceResolver
{
    private readonly KustomerClient _client;
    private readonly ConcurrentDictionary<string, Lazy<Task<string?>>> _cache = new(StringComparer.Ordinal);

    public ReferenceResolver(KustomerClient client)
    {
        _client = client;
    }

    /// <summary>Puts the resolved ids into the payload; returns null, or the reason the row cannot be written.</summary>
    public async Task<string?> ApplyAsync(MappedRecord record, CancellationToken cancellationToken)
    {
        foreach (var reference in record.References)
        {
            if (record.Payload[reference.Field] is not null) continue;
            var target = reference.Spec.ReferenceTarget!;
            var key = reference.Spec.ReferenceBy == RecordKeyKind.Email ? reference.Value.ToLowerInvariant() : reference.Value;
            var lookup = _cache.GetOrAdd($"{target.Kind}|{reference.Spec.ReferenceBy}|{key}", _ => new Lazy<Task<string?>>(() =>
                new RecordGateway(_client, target, RecordKey.Parse(reference.Spec.ReferenceBy.ToString(), target)).FindIdAsync(reference.Value, cancellationToken)));
            string? id;
            try
            {
                id = await lookup.Value.ConfigureAwait(false);
            }
            catch (KustomerException)
            {
                _cache.TryRemove($"{target.Kind}|{reference.Spec.ReferenceBy}|{key}", out _);
                throw;
            }
            if (id is null)
                return $"Row {record.Input.Row} (key '{record.Key}'): no {target.DisplayName} has {reference.Spec.ReferenceBy} '{reference.Value}' (column '{reference.Column}'); sync the {target.DisplayName.ToLowerInvariant()} records first.";
            record.Payload[reference.Field] = id;
        }
        return null;
    }
}
