using System.Net.Http.Headers;
using System.Text.Json;

namespace Billing.OpsCli.Api;

/// <summary>The platform's ops endpoints (<c>/v1/ops/...</c>), every call made with the one ops key.</summary>
public sealed class OpsApiClient(HttpClient http, string key)
{
    /// <summary>A projection rebuild answers only when it is done, which can take minutes.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(30);

    public static OpsApiClient Create(Uri baseAddress, string key)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
        return new OpsApiClient(new HttpClient(handler) { BaseAddress = baseAddress, Timeout = RequestTimeout }, key);
    }

    /// <summary>The stream's events and the body exactly as it came, for <c>--json</c>.</summary>
    public async Task<(IReadOnlyList<StoredEvent> Events, string Json)> GetStreamAsync(Guid streamId, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, $"v1/ops/streams/{streamId}", null, ct);
        return (Parse<IReadOnlyList<StoredEvent>>(json), json);
    }

    public async Task<ProjectionRebuilt> RebuildProjectionAsync(string name, CancellationToken ct) =>
        Parse<ProjectionRebuilt>(await SendAsync(HttpMethod.Post, $"v1/ops/projections/{Uri.EscapeDataString(name)}/rebuild", null, ct));

    public async Task<VerificationReport> VerifyInvoiceAsync(Guid invoiceId, CancellationToken ct) =>
        Parse<VerificationReport>(await SendAsync(HttpMethod.Post, $"v1/ops/invoices/{invoiceId}/verify", null, ct));

    public async Task<ReplayStarted> StartReplayAsync(StartReplay request, CancellationToken ct) =>
        Parse<ReplayStarted>(await SendAsync(HttpMethod.Post, "v1/ops/replay", request, ct));

    public async Task<ReplayStatus> GetReplayAsync(Guid replayId, CancellationToken ct) =>
        Parse<ReplayStatus>(await SendAsync(HttpMethod.Get, $"v1/ops/replay/{replayId}", null, ct));

    public async Task<JobRan> RunJobAsync(string jobId, CancellationToken ct) =>
        Parse<JobRan>(await SendAsync(HttpMethod.Post, $"v1/ops/jobs/{Uri.EscapeDataString(jobId)}/run", null, ct));

    private async Task<string> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            // Serialized up front so the request carries a Content-Length rather than a chunked body.
            request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), ApiJson.Options))
            {
                Headers = { ContentType = new MediaTypeHeaderValue("application/json") },
            };
        }

        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new ApiException(response.StatusCode, $"{method} /{path}", TryProblem(text), text);
        }

        return text;
    }

    private static T Parse<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, ApiJson.Options) ?? throw new JsonException($"The API answered an empty {typeof(T).Name}.");

    private static Problem? TryProblem(string body)
    {
        try
        {
            return body.Length > 0 && JsonSerializer.Deserialize<Problem>(body, ApiJson.Options) is { } problem
                && (problem.Title ?? problem.Detail) is not null
                ? problem
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
