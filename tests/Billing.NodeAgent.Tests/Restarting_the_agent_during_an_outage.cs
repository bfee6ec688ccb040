using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Billing.NodeAgent.Tests;

/// <summary>
/// The agent posts to a URL where nothing listens (the API is down), is stopped and started again,
/// and once an HTTP endpoint answers there, every heartbeat of both runs arrives, once, in order.
/// The endpoint records what it receives and acknowledges it as the API does (202, or 200 duplicate).
/// </summary>
public sealed class Restarting_the_agent_during_an_outage : IDisposable
{
    private const string NodeId = "node-restart";
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"agent-state-{Guid.NewGuid():N}");

    [Fact]
    public async Task Nothing_observed_before_the_restart_is_lost()
    {
        var port = FreePort();
        var api = ApiClient.Create(new Uri($"http://127.0.0.1:{port}/"), 2, TimeSpan.FromSeconds(2));

        // First run: the API is unreachable; five heartbeats are observed and held, then the agent stops.
        var first = new NodeSender(api, NodeId, "key", new SenderStats(), logRetries: false, journal: HeartbeatJournal.Open(directory, NodeId, 100));
        using (var stop = new CancellationTokenSource())
        {
            var sending = first.RunAsync(stop.Token);
            for (var i = 0; i < 5; i++)
            {
                Assert.True(first.Enqueue(Buffering_heartbeats_on_disk.Beat(i)));
            }

            await Task.Delay(1000);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        }

        // Second run: starts while the API is still down, observes three more; then the API comes back.
        var second = new NodeSender(api, NodeId, "key", new SenderStats(), logRetries: false, journal: HeartbeatJournal.Open(directory, NodeId, 100));
        using var running = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var delivering = second.RunAsync(running.Token);
        for (var i = 5; i < 8; i++)
        {
            Assert.True(second.Enqueue(Buffering_heartbeats_on_disk.Beat(i)));
        }

        var received = new ConcurrentQueue<Heartbeat>();
        await using var server = await ServeAsync(port, received);
        second.Complete();
        await delivering;

        Assert.Equal(Enumerable.Range(0, 8).Select(i => Buffering_heartbeats_on_disk.Beat(i).ObservedAt), received.Select(h => h.ObservedAt));
        Assert.Empty(HeartbeatJournal.Open(directory, NodeId, 100).Unsent);
    }

    private static async Task<WebApplication> ServeAsync(int port, ConcurrentQueue<Heartbeat> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/v1/nodes/{nodeId}/heartbeats", async (string nodeId, HttpRequest request) =>
        {
            var heartbeat = (await request.ReadFromJsonAsync<Heartbeat>(ApiJson.Options))!;
            if (received.Any(h => h.ObservedAt == heartbeat.ObservedAt))
            {
                return Results.Ok(new { nodeId, observedAt = heartbeat.ObservedAt, status = "duplicate" });
            }

            received.Enqueue(heartbeat);
            return Results.Accepted(value: new { nodeId, observedAt = heartbeat.ObservedAt, status = "accepted" });
        });
        await app.StartAsync();
        return app;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
