using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Tests;

/// <summary>A response read fully: status, headers, parsed JSON body.</summary>
public sealed record ApiResponse(HttpStatusCode Status, HttpResponseHeaders Headers, JsonNode? Body, string Raw)
{
    public int Code => (int)Status;
    public JsonObject Data => Body!["data"]!.AsObject();
    public string Id => Data["id"]!.GetValue<string>();
    public JsonObject Attributes => Data["attributes"]!.AsObject();
    public JsonObject Error => Body!["errors"]![0]!.AsObject();
    /// <summary>The JSON pointer of the rejected field (errors[0].source.pointer).</summary>
    public string ErrorPointer => Error["source"]!["pointer"]!.GetValue<string>();
    public string? Header(string name) => Headers.TryGetValues(name, out var v) ? v.Single() : null;

    public ApiResponse Expect(int status)
    {
        Assert.True(Code == status, $"expected {status}, got {Code}: {Raw}");
        return this;
    }
}

/// <summary>Starts emulators for tests and speaks to them over real HTTP.</summary>
public static class Api
{
    public static Task<EmulatorServer> Start(Action<EmulatorOptions>? configure = null)
    {
        var o = new EmulatorOptions { BulkDelayMs = 40 };
        configure?.Invoke(o);
        return EmulatorServer.StartAsync(o);
    }

    public static async Task<ApiResponse> Send(HttpClient client, HttpMethod method, string path, string? json = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, contentType);
        using var response = await client.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (raw.Length > 0) body = JsonNode.Parse(raw);
        return new ApiResponse(response.StatusCode, response.Headers, body, raw);
    }

    public static Task<ApiResponse> Get(this HttpClient c, string path) => Send(c, HttpMethod.Get, path);
    public static Task<ApiResponse> Post(this HttpClient c, string path, string json) => Send(c, HttpMethod.Post, path, json);
    public static Task<ApiResponse> Put(this HttpClient c, string path, string json) => Send(c, HttpMethod.Put, path, json);
    public static Task<ApiResponse> Patch(this HttpClient c, string path, string json) => Send(c, HttpMethod.Patch, path, json);
    public static Task<ApiResponse> Delete(this HttpClient c, string path) => Send(c, HttpMethod.Delete, path);

    /// <summary>Creates a customer and returns its id.</summary>
    public static async Task<string> CreateCustomer(this HttpClient c, string json) => (await c.Post("v1/customers", json)).Expect(201).Id;

    public static async Task<string> CreateCompany(this HttpClient c, string json) => (await c.Post("v1/companies", json)).Expect(201).Id;

    /// <summary>Moves the emulator clock forward (POST /_emulator/clock).</summary>
    public static async Task AdvanceClock(this HttpClient c, double seconds) =>
        (await c.Post("_emulator/clock", $$"""{"advanceSeconds":{{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""")).Expect(200);

    /// <summary>
    /// Completes a bulk job without waiting: advances the emulator clock past the job's latency and reads it (every
    /// read catches a job up with the clock). Returns the batches merged into one: counts summed, objectIds,
    /// errors and results (null when no batch has any) concatenated.
    /// </summary>
    public static async Task<JsonObject> WaitForBulk(HttpClient bulkClient, string id)
    {
        var job = (await bulkClient.Get($"v1/bulk/{id}")).Expect(200);
        if (job.Attributes["status"]!.GetValue<string>() != "complete")
        {
            await bulkClient.AdvanceClock(3600);
            job = (await bulkClient.Get($"v1/bulk/{id}")).Expect(200);
        }
        Assert.Equal("complete", job.Attributes["status"]!.GetValue<string>());
        var batches = await Batches(bulkClient, id);
        Assert.Equal(job.Attributes["batches"]!["total"]!.GetValue<int>(), batches.Count);
        var merged = new JsonObject { ["successCount"] = 0, ["failureCount"] = 0, ["objectIds"] = new JsonArray(), ["errors"] = new JsonArray() };
        JsonArray? results = null;
        foreach (var b in batches)
        {
            Assert.Equal("complete", b["status"]!.GetValue<string>());
            merged["successCount"] = merged["successCount"]!.GetValue<int>() + b["successCount"]!.GetValue<int>();
            merged["failureCount"] = merged["failureCount"]!.GetValue<int>() + b["failureCount"]!.GetValue<int>();
            foreach (var x in b["objectIds"]!.AsArray()) merged["objectIds"]!.AsArray().Add(x!.DeepClone());
            foreach (var x in b["errors"]!.AsArray()) merged["errors"]!.AsArray().Add(x!.DeepClone());
            if (b["results"] is JsonArray r)
            {
                results ??= new JsonArray();
                foreach (var x in r) results.Add(x!.DeepClone());
            }
        }
        if (results is not null) merged["results"] = results;
        return merged;
    }

    /// <summary>Every batch of a job as flat attribute objects, from either envelope (bare array, or data[] following links.next).</summary>
    public static async Task<List<JsonObject>> Batches(HttpClient bulkClient, string id)
    {
        var list = new List<JsonObject>();
        string? next = $"v1/bulk/{id}/batches";
        while (next is not null)
        {
            var body = (await bulkClient.Get(next)).Expect(200).Body!;
            if (body is JsonArray bare)
            {
                list.AddRange(bare.Select(b => b!.AsObject()));
                break;
            }
            list.AddRange(body["data"]!.AsArray().Select(b => b!["attributes"]!.AsObject()));
            next = body["links"]?["next"]?.GetValue<string>();
        }
        return list;
    }
}
