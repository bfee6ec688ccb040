using System.Net;

namespace Billing.IntegrationTests.GpuTelemetry;

public sealed class Pruning_old_gpu_telemetry(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task Telemetry_older_than_the_retention_goes_and_newer_stays()
    {
        var node = await TelemetryAgent.StartAsync(api, gpuCount: 1);
        var old = api.Now;
        await node.BeatAsync(1, _ => (50, 300));
        api.Advance(TimeSpan.FromDays(10));
        var recent = api.Now;
        await node.BeatAsync(1, _ => (50, 300));
        api.Advance(TimeSpan.FromDays(26));   // the first is now 36 days old, past the default 35

        Assert.Equal((1, 1), (await MinutesAsync(node.NodeId, old), await MinutesAsync(node.NodeId, recent)));
        await api.RunJobAsync("fleet-heartbeat-retention");

        Assert.Equal((0, 1), (await MinutesAsync(node.NodeId, old), await MinutesAsync(node.NodeId, recent)));
    }

    private async Task<int> MinutesAsync(string nodeId, DateTimeOffset minute) =>
        (await PlatformClient.ReadAsync(await api.Ops.GetAsync(
            $"/v1/nodes/{nodeId}/telemetry?from={PlatformClient.Rfc3339(minute)}&to={PlatformClient.Rfc3339(minute.AddMinutes(1))}"), HttpStatusCode.OK))
        .GetArrayLength();
}
