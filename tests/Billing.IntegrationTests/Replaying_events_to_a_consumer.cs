using System.Net;
using System.Net.Http.Json;

namespace Billing.IntegrationTests;

public sealed class Replaying_events_to_a_consumer(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Replaying_a_lease_usage_reports_progress_and_changes_no_total()
    {
        var (_, tenant, _, start) = await api.RunLeaseAsync();
        await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);

        var started = await PlatformClient.ReadAsync(
            await api.Ops.PostAsJsonAsync("/v1/ops/replay", new { consumer = "usage", eventTypes = new[] { "usage_recorded" }, from = DateTimeOffset.UtcNow.AddMinutes(-10) }),
            HttpStatusCode.Accepted);
        var replayId = started.GetProperty("replayId").GetGuid();
        var total = started.GetProperty("total").GetInt64();
        await PlatformClient.EventuallyAsync(
            async () => (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/replay/{replayId}"), HttpStatusCode.OK)).GetProperty("done").GetBoolean(), true);
        var status = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/ops/replay/{replayId}"), HttpStatusCode.OK);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        var invalid = await api.Ops.PostAsJsonAsync("/v1/ops/replay", new { consumer = "usage", eventTypes = new[] { "lease_started" } });

        Assert.True(total >= 10, $"total {total}"); // at least the lease's ten minutes of windows
        Assert.Equal(total, status.GetProperty("published").GetInt64());
        Assert.Equal(2355m, await api.UsageAsync(tenant, start));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }
}
