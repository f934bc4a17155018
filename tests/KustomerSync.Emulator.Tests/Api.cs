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

    /// <summary>Polls GET /v1/bulk/{id} until complete (needs a bulk key).</summary>
    public static async Task<JsonObject> WaitForBulk(HttpClient bulkClient, string id)
    {
        for (var i = 0; i < 200; i++)
        {
            var r = (await bulkClient.Get($"v1/bulk/{id}")).Expect(200);
            if (r.Attributes["status"]!.GetValue<string>() == "complete")
                return (await bulkClient.Get($"v1/bulk/{id}/batches")).Expect(200).Body!["data"]![0]!["attributes"]!.AsObject();
            await Task.Delay(20);
        }
        throw new TimeoutException("bulk job did not complete");
    }
}
