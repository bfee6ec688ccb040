using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.IntegrationTests;

public sealed class Limiting_each_keys_request_rate(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "A100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_burst_from_one_tenant_key_gets_429_while_a_node_at_its_cadence_is_never_refused()
    {
        var (_, tenant) = await api.TenantAsync("bursting");
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount: 2);
        Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpuCount: 2)).StatusCode);
        var lease = await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 1, pricing = "OnDemand" }), HttpStatusCode.Created);
        var poll = $"/v1/leases/{lease.GetProperty("leaseId").GetGuid()}";
        var bucket = platform.Services.GetRequiredService<IOptions<RateLimits>>().Value.Tenant;
        using var burstDone = new CancellationTokenSource();

        // The node heartbeats all through the burst, far faster than its real 15 s cadence.
        var heartbeats = Task.Run(async () =>
        {
            var answers = new List<HttpStatusCode>();
            while (!burstDone.IsCancellationRequested || answers.Count < 3)
            {
                api.Advance(TimeSpan.FromSeconds(15));
                answers.Add((await api.HeartbeatAsync(agent, nodeId, gpuCount: 2)).StatusCode);
                await Task.Delay(100, CancellationToken.None);
            }

            return answers;
        });
        HttpResponseMessage? refused = null;
        var sent = 0;
        try
        {
            // A client polling its lease far more often than it should: more than the bucket holds, a batch at a time, until the first refusal.
            while (refused is null && sent < 4 * bucket.TokenLimit)
            {
                var batch = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => tenant.GetAsync(poll)));
                sent += batch.Length;
                refused = batch.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
                Assert.All(batch, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            }
        }
        finally
        {
            await burstDone.CancelAsync();
        }

        Assert.NotNull(refused);
        Assert.True(sent > bucket.TokenLimit, $"refused after {sent} requests, under the bucket's {bucket.TokenLimit}");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetInt32());
        Assert.All(await heartbeats, status => Assert.Equal(HttpStatusCode.Accepted, status));
    }
}
