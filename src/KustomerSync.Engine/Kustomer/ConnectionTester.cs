using System.Net;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Kustomer;

/// <summary>Checks a key with GET /v1/auth/tokens/current (works whatever the key's roles) and reads what it may do.</summary>
public static class ConnectionTester
{
    public static async Task<ConnectionTestResult> TestAsync(KustomerClient client, string destinationName, CancellationToken cancellationToken)
    {
        var result = new ConnectionTestResult { Destination = destinationName, BaseUri = client.BaseUri };
        var started = client.Time.GetTimestamp();
        KustomerResponse response;
        try
        {
            response = await client.SendAsync(HttpMethod.Get, "auth/tokens/current", null, RequestKind.Idempotent, cancellationToken).ConfigureAwait(false);
        }
        catch (KustomerApiException ex) when (ex.Status == HttpStatusCode.Unauthorized)
        {
            throw new KustomerException(ErrorIds.AuthenticationFailed,
                $"Kustomer at {client.BaseUri.Host} refused the API key ({ex.Detail}). Check that the key is complete, not expired, and from this organization's region.", ex);
        }
        result.LatencyMs = Math.Round(client.Time.GetElapsedTime(started).TotalMilliseconds, 1);
        var attributes = response.DataAttributes;
        result.TokenName = attributes?["name"]?.ToString();
        result.Roles = KustomerRoles.FromToken(attributes);
        result.Objects = Enum.GetValues(typeof(ObjectKind)).Cast<ObjectKind>().Select(kind => KustomerRoles.AccessTo(kind, result.Roles)).ToArray();
        result.CanUseBulk = KustomerRoles.HoldsAny(result.Roles, KustomerRoles.BulkRead);
        result.RateLimit = client.Gate.Limit;
        result.RateLimitRemaining = client.Gate.Remaining;
        result.RateBudget = result.RateLimit is { } limit ? RateGate.Allowance(limit, Sync.UpsertOptions.DefaultBudgetShare, null) : null;
        result.RateUsedBySyncs = client.Gate.PeakUsed;
        result.Succeeded = true;
        var gaps = result.Objects.Where(o => !o.CanSync).Select(o => $"{o.Object} (add {string.Join(", ", o.MissingRoles)})").ToList();
        if (!KustomerRoles.HoldsAny(result.Roles, KustomerRoles.MetadataRead)) gaps.Add("custom attribute metadata (add org.admin.metadata.read)");
        if (!KustomerRoles.HoldsAny(result.Roles, KustomerRoles.Search)) gaps.Add("search for custom-attribute keys (add org.admin.search.read)");
        result.Message = gaps.Count == 0
            ? "The key can sync every object." + (result.CanUseBulk ? " Bulk writes are available." : " Bulk writes need org.permission.bulk; single-record writes will be used.")
            : "The key cannot sync: " + string.Join("; ", gaps) + ".";
        return result;
    }
}
