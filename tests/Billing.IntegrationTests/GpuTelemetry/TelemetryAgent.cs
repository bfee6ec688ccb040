using System.Net;
using System.Net.Http.Json;

namespace Billing.IntegrationTests.GpuTelemetry;

/// <summary>A node of the test's own that posts heartbeats with the telemetry each test chooses.</summary>
public sealed class TelemetryAgent(PlatformClient api, string nodeId, HttpClient agent)
{
    public const string Sku = "H100-SXM-80GB";

    public string NodeId => nodeId;

    /// <summary>A fresh node, registered on the next whole minute, when the class's earlier nodes are unreachable.</summary>
    public static async Task<TelemetryAgent> StartAsync(PlatformClient api, int gpuCount)
    {
        api.Advance(TimeSpan.FromMinutes(2));
        api.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerMinute - api.Now.UtcTicks % TimeSpan.TicksPerMinute));
        var (nodeId, agent) = await api.NodeAsync(Sku, gpuCount);
        return new TelemetryAgent(api, nodeId, agent);
    }

    /// <summary>Posts a heartbeat now: GPU i healthy unless <paramref name="failed"/> names it, with the readings <paramref name="reading"/> gives.</summary>
    public async Task BeatAsync(int gpuCount, Func<int, (double Utilization, double Power)> reading, int? failed = null, double temperature = 60, int xid = 0)
    {
        var response = await agent.PostAsJsonAsync($"/v1/nodes/{nodeId}/heartbeats", new
        {
            observedAt = api.Now,
            gpus = Enumerable.Range(0, gpuCount).Select(i => new
            {
                index = i,
                healthy = i != failed,
                utilizationPct = reading(i).Utilization,
                memoryUsedMiB = 1000 * (i + 1),
                memoryTotalMiB = 81_559,
                temperatureC = temperature + i,
                powerW = reading(i).Power,
                eccUncorrected = 0,
                xid = i == failed ? xid : 0,
            }),
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }
}
