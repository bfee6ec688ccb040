using System.Net;
using System.Net.Http.Json;
using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;

namespace Billing.IntegrationTests;

/// <summary>
/// The node agent's own sender and on-disk journal, posting to the platform through a link the test can cut: the
/// platform goes out of reach mid-lease (the first lost exchange after the platform had stored the heartbeat), the
/// agent is stopped with heartbeats on disk and started again from its state directory (as a new process would:
/// nothing but the directory survives), more heartbeats come during the outage, and the link comes back.
/// </summary>
public sealed class Restarting_the_agent_mid_outage(Platform platform) : IClassFixture<Platform>, IDisposable
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);
    private readonly string stateDirectory = Path.Combine(Path.GetTempPath(), $"agent-state-{Guid.NewGuid():N}");

    [Fact]
    public async Task Every_heartbeat_held_on_disk_across_the_restart_is_billed_exactly_once()
    {
        var (_, tenant) = await api.TenantAsync("restart");
        var nodeId = $"node-{Guid.NewGuid():N}"[..17];
        var agentKey = (await PlatformClient.ReadAsync(
            await api.Ops.PostAsJsonAsync("/v1/nodes", new { nodeId, sku = Sku, gpuCount = 2, region = "test-1" }), HttpStatusCode.Created))
            .GetProperty("agentKey").GetString()!;
        var link = new Link(platform.Handler());
        var client = new ApiClient(new HttpClient(link) { BaseAddress = new Uri("http://localhost/") });
        var minute = new DateTimeOffset(api.Now.UtcTicks - api.Now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

        // First run: heartbeats 0-4 arrive; the lease starts after the first.
        var first = Sender(client, nodeId, agentKey, new SenderStats());
        using var firstRun = new CancellationTokenSource();
        var firstSending = first.RunAsync(firstRun.Token);
        Beat(first, 0);
        await first.FirstAcknowledged;
        var leaseId = (await PlatformClient.ReadAsync(
            await tenant.PostAsJsonAsync("/v1/leases", new { sku = Sku, gpuCount = 2, pricing = "OnDemand" }), HttpStatusCode.Created))
            .GetProperty("leaseId").GetGuid();
        for (var i = 1; i <= 4; i++)
        {
            Beat(first, i);
        }

        await PlatformClient.EventuallyAsync(() => Task.FromResult(first.Acknowledged.Count), 5);

        // The outage: heartbeat 5 is stored but its answer lost; 5-7 wait on disk; the agent is stopped.
        link.LoseNextAnswerThenGoDown();
        for (var i = 5; i <= 7; i++)
        {
            Beat(first, i);
        }

        await PlatformClient.EventuallyAsync(() => Task.FromResult(link.Lost), true);
        await firstRun.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstSending);
        Assert.Equal(3, HeartbeatJournal.Open(stateDirectory, nodeId, 100).Unsent.Count);

        // Second run, still in the outage: it starts with the three from disk and observes 8 and 9; then the link is back,
        // 60 s after the platform last heard from the node (past 105 s, timeout and grace, it would interrupt the lease).
        var stats = new SenderStats();
        var second = Sender(client, nodeId, agentKey, stats);
        using var secondRun = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var secondSending = second.RunAsync(secondRun.Token);
        for (var i = 8; i <= 9; i++)
        {
            Beat(second, i);
        }

        link.Restore();
        await PlatformClient.EventuallyAsync(() => Task.FromResult(second.Acknowledged.Count), 5);
        await PlatformClient.ReadAsync(await tenant.PostAsync($"/v1/leases/{leaseId}/end", null), HttpStatusCode.OK);
        Beat(second, 10);   // after the end: closes the last window
        second.Complete();
        await secondSending;

        // 9 intervals of 15 s on 2 GPUs; heartbeat 5 reached the platform twice and is acknowledged as a duplicate the second time.
        var expected = 2 * 9 * 15m;
        Assert.Equal((1, 5, 0), (stats.Duplicates, stats.Accepted, stats.Refused));
        var lease = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        Assert.True(lease.GetProperty("settled").GetBoolean());
        Assert.Equal(expected, lease.GetProperty("gpuSeconds").GetDecimal());
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(tenant, minute, minute.AddHours(1)), expected);
        Assert.Empty(HeartbeatJournal.Open(stateDirectory, nodeId, 100).Unsent);
    }

    public void Dispose()
    {
        if (Directory.Exists(stateDirectory))
        {
            Directory.Delete(stateDirectory, recursive: true);
        }
    }

    private NodeSender Sender(ApiClient client, string nodeId, string agentKey, SenderStats stats) =>
        new(client, nodeId, agentKey, stats, keepAcknowledged: true, logRetries: false, journal: HeartbeatJournal.Open(stateDirectory, nodeId, 100));

    /// <summary>Heartbeat <paramref name="i"/>: 15 s after the previous one on the platform's clock, both GPUs healthy.</summary>
    private void Beat(NodeSender sender, int i)
    {
        if (i > 0)
        {
            api.Advance(TimeSpan.FromSeconds(15));
        }

        Assert.True(sender.Enqueue(Heartbeat(api.Now)));
    }

    private static Heartbeat Heartbeat(DateTimeOffset at) =>
        new(at, [.. Enumerable.Range(0, 2).Select(g => new Billing.NodeAgent.Api.GpuTelemetry(g, $"GPU-{g}", true, 90, 1000, 81_559, 60, 400, 0, 0))]);

    /// <summary>The network between agent and platform: up; or losing the next answer (after the platform handled the request), then down.</summary>
    private sealed class Link(HttpMessageHandler platform) : DelegatingHandler(platform)
    {
        private volatile int state;   // 0 up, 1 lose the next answer, 2 down

        public bool Lost => state == 2;

        public void LoseNextAnswerThenGoDown() => state = 1;

        public void Restore() => state = 0;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            switch (state)
            {
                case 2:
                    throw new HttpRequestException("Connection refused (the test's outage).");
                case 1:
                    using (await base.SendAsync(request, cancellationToken))
                    {
                        state = 2;
                        throw new HttpRequestException("Connection reset before the answer (the test's outage).");
                    }

                default:
                    return await base.SendAsync(request, cancellationToken);
            }
        }
    }
}
