using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Billing.IntegrationTests;

/// <summary>The public API as the platform's users call it, with the fake clock of the run.</summary>
public sealed class PlatformClient(Platform platform)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private const string LeaseSku = "H100-SXM-80GB";

    public HttpClient Ops { get; } = platform.Client(Platform.OpsKey);

    public static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Midnight UTC starting the month after <paramref name="at"/>'s: its month's end.</summary>
    public static DateTimeOffset NextMonth(DateTimeOffset at) => new DateTimeOffset(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);

    public static async Task<decimal> MinuteUsageAsync(HttpClient tenant, DateTimeOffset from, DateTimeOffset to) =>
        (await ReadAsync(await tenant.GetAsync($"/v1/usage?from={Rfc3339(from)}&to={Rfc3339(to)}&granularity=minute"), HttpStatusCode.OK))
            .GetProperty("totalGpuSeconds").GetDecimal();

    /// <summary>The caller's invoices of a period (a tenant sees only its own).</summary>
    public static async Task<List<JsonElement>> InvoicesAsync(HttpClient caller, string period) =>
        (await ReadAsync(await caller.GetAsync($"/v1/invoices?period={period}"), HttpStatusCode.OK)).EnumerateArray().ToList();

    /// <summary>The tenant's one invoice of a period.</summary>
    public static async Task<JsonElement> InvoiceAsync(HttpClient tenant, string period) => Assert.Single(await InvoicesAsync(tenant, period));

    /// <summary>Runs a job now, as ops would, and waits until it is done.</summary>
    public async Task RunJobAsync(string jobId) => await ReadAsync(await Ops.PostAsync($"/v1/ops/jobs/{jobId}/run", null), HttpStatusCode.OK);

    public async Task<decimal> UsageAsync(HttpClient tenant, DateTimeOffset from, string groupBy = "sku")
    {
        var hour = new DateTimeOffset(from.UtcTicks - from.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);
        var report = await PlatformClient.ReadAsync(
            await tenant.GetAsync($"/v1/usage?from={Rfc3339(hour)}&to={Rfc3339(hour.AddHours(3))}&granularity=hour&groupBy={groupBy}"), HttpStatusCode.OK);
        return report.GetProperty("totalGpuSeconds").GetDecimal();
    }

    /// <summary>
    /// 4 GPUs leased 10 minutes, heartbeats every 15 s with one of them failed for two heartbeats
    /// (three intervals lost): 4 × 600 − 3 × 15 = 2355 GPU-seconds. It starts a minute on, when the
    /// nodes of the class's earlier runs are unreachable, so the lease can only land on its own node.
    /// </summary>
    public async Task<(string TenantId, HttpClient Tenant, Guid LeaseId, DateTimeOffset Start)> RunLeaseAsync(Func<int, Task>? midway = null)
    {
        Advance(TimeSpan.FromMinutes(1));
        var (tenantId, tenant) = await TenantAsync();
        var (nodeId, agent) = await NodeAsync(LeaseSku, gpuCount: 4);
        Assert.Equal(HttpStatusCode.Accepted, (await HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = LeaseSku, gpuCount = 4, pricing = "OnDemand" }), HttpStatusCode.Created);
        var leaseId = lease.GetProperty("leaseId").GetGuid();
        var start = lease.GetProperty("startedAt").GetDateTimeOffset();
        for (var i = 1; i <= 40; i++)
        {
            Advance(TimeSpan.FromSeconds(15));
            var response = await HeartbeatAsync(agent, nodeId, gpuCount: 4, failedGpu: i is 10 or 11 ? 2 : null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            if (midway is not null)
            {
                await midway(i);
            }
        }

        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.Accepted, (await HeartbeatAsync(agent, nodeId, gpuCount: 4)).StatusCode);
        return (tenantId, tenant, leaseId, start);
    }


    public DateTimeOffset Now => platform.Time.GetUtcNow();

    public void Advance(TimeSpan by) => platform.Time.Advance(by);

    public async Task<(string TenantId, HttpClient Client)> TenantAsync(string name = "acme")
    {
        var created = await ReadAsync(await Ops.PostAsJsonAsync("/v1/tenants", new { name }), HttpStatusCode.Created);
        return (created.GetProperty("tenantId").GetString()!, platform.Client(created.GetProperty("apiKey").GetString()));
    }

    public async Task<(string NodeId, HttpClient Agent)> NodeAsync(string sku, int gpuCount = 8)
    {
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        var created = await ReadAsync(await Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku, gpuCount, region = "test-1" }), HttpStatusCode.Created);
        return (nodeId, platform.Client(created.GetProperty("agentKey").GetString()));
    }

    public Task<HttpResponseMessage> HeartbeatAsync(HttpClient agent, string nodeId, int gpuCount = 8, int? failedGpu = null, DateTimeOffset? at = null) =>
        agent.PostAsJsonAsync($"/v1/nodes/{nodeId}/heartbeats", new
        {
            observedAt = at ?? Now,
            gpus = Enumerable.Range(0, gpuCount).Select(i => new
            {
                index = i,
                uuid = $"GPU-{nodeId}-{i}",
                healthy = i != failedGpu,
                utilizationPct = 97.5,
                memoryUsedMiB = 70_000,
                memoryTotalMiB = 81_559,
                temperatureC = 61,
                powerW = 650,
                eccUncorrected = 0,
                xid = 0,
            }),
        });

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Polls until <paramref name="read"/> gives <paramref name="expected"/>; fails, with what it last
    /// read, once <paramref name="seconds"/> have passed without it.
    /// </summary>
    public static async Task EventuallyAsync<T>(
        Func<Task<T>> read, T expected, int seconds = 60, [CallerArgumentExpression(nameof(read))] string what = "")
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var value = await read();
        while (!EqualityComparer<T>.Default.Equals(value, expected))
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"{what} gave {value} after {seconds} s; expected {expected}.");
            }

            await Task.Delay(200);
            value = await read();
        }
    }
}
