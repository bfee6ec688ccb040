using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Billing.NodeAgent.Api;

/// <summary>
/// The platform's public HTTP API, version 1. Every call names the key it is made with, because one
/// process speaks as ops, as tenants and as many nodes at once.
/// </summary>
public sealed class ApiClient(HttpClient http)
{
    public static ApiClient Create(Uri baseAddress, int maxConnections, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        return new ApiClient(new HttpClient(handler) { BaseAddress = baseAddress, Timeout = timeout });
    }

    public Task<TenantCreated> CreateTenantAsync(string opsKey, string name, CancellationToken ct) =>
        SendAsync<TenantCreated>(HttpMethod.Post, "v1/tenants", opsKey, new CreateTenant(name), ct);

    public Task<NodeRegistered> RegisterNodeAsync(string opsKey, RegisterNode node, CancellationToken ct) =>
        SendAsync<NodeRegistered>(HttpMethod.Post, "v1/nodes", opsKey, node, ct);

    public Task<Lease> RequestLeaseAsync(string tenantKey, RequestLease lease, CancellationToken ct) =>
        SendAsync<Lease>(HttpMethod.Post, "v1/leases", tenantKey, lease, ct);

    public Task<Lease> EndLeaseAsync(string tenantKey, string leaseId, CancellationToken ct) =>
        SendAsync<Lease>(HttpMethod.Post, $"v1/leases/{Uri.EscapeDataString(leaseId)}/end", tenantKey, null, ct);

    public Task<Lease> GetLeaseAsync(string tenantKey, string leaseId, CancellationToken ct) =>
        SendAsync<Lease>(HttpMethod.Get, $"v1/leases/{Uri.EscapeDataString(leaseId)}", tenantKey, null, ct);

    public Task<UsageReport> GetUsageAsync(
        string key, DateTimeOffset from, DateTimeOffset to, string granularity, string groupBy, CancellationToken ct, string? leaseId = null) =>
        SendAsync<UsageReport>(HttpMethod.Get,
            $"v1/usage?from={Uri.EscapeDataString(ApiJson.Format(from))}&to={Uri.EscapeDataString(ApiJson.Format(to))}" +
            $"&granularity={granularity}&groupBy={groupBy}" + (leaseId is null ? "" : $"&leaseId={Uri.EscapeDataString(leaseId)}"),
            key, null, ct);

    public Task<MeterUsageReport> GetMeterUsageAsync(
        string key, string meter, DateTimeOffset from, DateTimeOffset to, string granularity, string groupBy, CancellationToken ct) =>
        SendAsync<MeterUsageReport>(HttpMethod.Get,
            $"v1/usage?meter={Uri.EscapeDataString(meter)}&from={Uri.EscapeDataString(ApiJson.Format(from))}&to={Uri.EscapeDataString(ApiJson.Format(to))}" +
            $"&granularity={granularity}&groupBy={Uri.EscapeDataString(groupBy)}",
            key, null, ct);

    public Task<KeyIssued> IssueKeyAsync(string opsKey, IssueKey key, CancellationToken ct) =>
        SendAsync<KeyIssued>(HttpMethod.Post, "v1/keys", opsKey, key, ct);

    public Task<PriceList> GetPricesAsync(string key, CancellationToken ct) =>
        SendAsync<PriceList>(HttpMethod.Get, "v1/prices", key, null, ct);

    /// <summary>Posts CloudEvents already encoded (structured or batch mode) and reads which were accepted, duplicates or refused.</summary>
    public async Task<IngestAnswer> PostEventsAsync(string key, ReadOnlyMemory<byte> body, string contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/events")
        {
            Content = new ReadOnlyMemoryContent(body) { Headers = { ContentType = MediaTypeHeaderValue.Parse(contentType) } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<IngestAnswer>(ApiJson.Options, ct)
            ?? throw new ApiException(response.StatusCode, Describe(response), null, "empty body");
    }

    public Task RunInvoicingDraftAsync(string opsKey, CancellationToken ct) => RunJobAsync(opsKey, "invoicing-draft", ct);

    /// <summary>Runs a recurring job now and waits until it is done.</summary>
    public async Task RunJobAsync(string opsKey, string jobId, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Post, $"v1/ops/jobs/{Uri.EscapeDataString(jobId)}/run", opsKey, null, ct);
        await EnsureSuccessAsync(response, ct);
    }

    public Task<IReadOnlyList<Invoice>> GetInvoicesAsync(string key, string tenantId, CancellationToken ct) =>
        SendAsync<IReadOnlyList<Invoice>>(HttpMethod.Get, $"v1/invoices?tenantId={Uri.EscapeDataString(tenantId)}", key, null, ct);

    public async Task<bool> IsUpAsync(CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync("health", ct);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Posts one heartbeat and says what became of it; never throws for an answer or an outage.</summary>
    public async Task<HeartbeatResult> PostHeartbeatAsync(string nodeId, string agentKey, Heartbeat heartbeat, CancellationToken ct)
    {
        try
        {
            using var response = await SendRawAsync(HttpMethod.Post, $"v1/nodes/{Uri.EscapeDataString(nodeId)}/heartbeats", agentKey, heartbeat, ct);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                var duplicate = response.StatusCode == HttpStatusCode.OK && await IsDuplicateAsync(response, ct);
                return new HeartbeatResult(duplicate ? HeartbeatOutcome.Duplicate : HeartbeatOutcome.Accepted, code, null);
            }

            var detail = await DescribeAsync(response, ct);
            var outcome = response.StatusCode switch
            {
                HttpStatusCode.Conflict => HeartbeatOutcome.OutOfOrder,
                HttpStatusCode.UnprocessableEntity => HeartbeatOutcome.OutOfRange,
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound => HeartbeatOutcome.Fatal,
                HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests => HeartbeatOutcome.Unavailable,
                _ when code >= 500 => HeartbeatOutcome.Unavailable,
                _ => HeartbeatOutcome.Invalid,
            };
            return new HeartbeatResult(outcome, code, detail);
        }
        catch (HttpRequestException ex)
        {
            return new HeartbeatResult(HeartbeatOutcome.Unavailable, null, ex.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new HeartbeatResult(HeartbeatOutcome.Unavailable, null, "timed out");
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, string key, object? body, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, key, body, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct)
            ?? throw new ApiException(response.StatusCode, Describe(response), null, "empty body");
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, string key, object? body, CancellationToken ct)
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

        return await http.SendAsync(request, ct);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(ct);
        throw new ApiException(response.StatusCode, Describe(response), TryProblem(body), body);
    }

    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        return TryProblem(body) is { } problem ? $"{problem.Title}: {problem.Detail}" : body;
    }

    private static async Task<bool> IsDuplicateAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct);
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("status", out var status)
                && status.ValueKind == JsonValueKind.String
                && string.Equals(status.GetString(), "duplicate", StringComparison.OrdinalIgnoreCase);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Problem? TryProblem(string body)
    {
        try
        {
            return body.Length > 0 ? JsonSerializer.Deserialize<Problem>(body, ApiJson.Options) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(HttpResponseMessage response) =>
        $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery}";
}
