using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Billing.IntegrationTests.Meters;

/// <summary>Token events as a model gateway posts them, and what the platform answers.</summary>
public sealed class MeterEvents(Platform platform, PlatformClient api)
{
    public const string TokenType = "com.billing.llm.tokens";

    public static object Token(string tenantId, string id, DateTimeOffset at, object? tokens, string model = "small-chat", string tokenType = "input", string type = TokenType, string source = "gateway-1") =>
        new Dictionary<string, object?>
        {
            ["specversion"] = "1.0",
            ["type"] = type,
            ["source"] = source,
            ["id"] = id,
            ["subject"] = tenantId,
            ["time"] = PlatformClient.Rfc3339(at),
            ["datacontenttype"] = "application/json",
            ["data"] = new { model, tokenType, tokens },
        };

    public async Task<HttpClient> IngestKeyAsync()
    {
        var issued = await PlatformClient.ReadAsync(await api.Ops.PostAsJsonAsync("/v1/keys", new { role = "ingest", name = "model gateway" }), HttpStatusCode.Created);
        return platform.Client(issued.GetProperty("key").GetString());
    }

    public static Task<HttpResponseMessage> PostBatchAsync(HttpClient caller, IEnumerable<object> events) =>
        caller.PostAsync("/v1/events", new StringContent(JsonSerializer.Serialize(events), Encoding.UTF8, "application/cloudevents-batch+json"));

    public static Task<HttpResponseMessage> PostOneAsync(HttpClient caller, object cloudEvent) =>
        caller.PostAsync("/v1/events", new StringContent(JsonSerializer.Serialize(cloudEvent), Encoding.UTF8, "application/cloudevents+json"));

    /// <summary>(accepted, duplicates, rejected) indexes of a post's answer.</summary>
    public static async Task<(int[] Accepted, int[] Duplicates, (int Index, string Problem)[] Rejected)> AnswerAsync(HttpResponseMessage response)
    {
        var body = await PlatformClient.ReadAsync(response, HttpStatusCode.OK);
        return (
            body.GetProperty("accepted").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            body.GetProperty("duplicates").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            body.GetProperty("rejected").EnumerateArray().Select(e => (e.GetProperty("index").GetInt32(), e.GetProperty("problem").GetString()!)).ToArray());
    }
}
