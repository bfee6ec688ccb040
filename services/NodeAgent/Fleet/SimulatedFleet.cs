using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Fleet;

public sealed record SimulationSettings(TimeSpan Interval, double FailRate, double GapRate);

/// <summary>
/// Simulated nodes, each with its own clock loop that observes telemetry every interval and its own
/// <see cref="NodeSender"/> that delivers it in order.
/// </summary>
public sealed class SimulatedFleet
{
    private readonly IReadOnlyList<FleetNode> nodes;
    private readonly SimulationSettings settings;
    private readonly SenderStats stats = new();
    private readonly Dictionary<string, NodeSender> senders;
    private readonly CancellationTokenSource observing = new();
    private readonly CancellationTokenSource sending = new();
    private readonly List<Task> running = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> silenced = new();

    public SimulatedFleet(ApiClient api, IReadOnlyList<FleetNode> nodes, SimulationSettings settings, bool keepAcknowledged)
    {
        this.nodes = nodes;
        this.settings = settings;
        senders = nodes.ToDictionary(n => n.NodeId, n => new NodeSender(api, n.NodeId, n.AgentKey, stats, keepAcknowledged));
    }

    public SenderStats Stats => stats;

    public IReadOnlyDictionary<string, NodeSender> Senders => senders;

    public void Start()
    {
        foreach (var node in nodes)
        {
            var sender = senders[node.NodeId];
            var simulated = new SimulatedNode(node.NodeId, node.GpuCount, settings.FailRate, settings.GapRate);
            running.Add(Task.Run(() => sender.RunAsync(sending.Token)));
            running.Add(Task.Run(() => ObserveAsync(simulated, sender, observing.Token)));
        }
    }

    /// <summary>Waits until every node has had a heartbeat acknowledged; throws if one stopped or time ran out.</summary>
    public async Task WhenAllReportedAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(senders.Values.Select(s => s.FirstAcknowledged)).WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            var silent = senders.Values.Where(s => !s.FirstAcknowledged.IsCompleted).Select(s => s.NodeId).ToList();
            throw new TimeoutException($"{silent.Count} nodes had no heartbeat acknowledged within {Durations.Format(timeout)}, e.g. {silent[0]}.");
        }
    }

    /// <summary>The node dies: it observes and posts nothing more (what it already queued still goes out).</summary>
    public void Silence(string nodeId) => silenced[nodeId] = true;

    /// <summary>Stops observing, gives the senders <paramref name="drain"/> to deliver what they hold, then stops them.</summary>
    public async Task StopAsync(TimeSpan drain)
    {
        await observing.CancelAsync();
        foreach (var sender in senders.Values)
        {
            sender.Complete();
        }

        try
        {
            await Task.WhenAll(running).WaitAsync(drain);
        }
        catch (TimeoutException)
        {
            var left = senders.Values.Sum(s => s.Pending);
            Log.Warn($"Stopping with {left} heartbeats still buffered (the API did not take them within {Durations.Format(drain)}).");
        }

        await sending.CancelAsync();
        await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private async Task ObserveAsync(SimulatedNode node, NodeSender sender, CancellationToken ct)
    {
        try
        {
            // Spread the fleet's first heartbeats so that the nodes do not post in lockstep.
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(settings.Interval.TotalMilliseconds, 2000)), ct);
            using var timer = new PeriodicTimer(settings.Interval);
            do
            {
                if (sender.Failed || silenced.ContainsKey(sender.NodeId))
                {
                    return;
                }

                if (node.Observe(Clock.Now) is { } heartbeat)
                {
                    sender.Enqueue(heartbeat);
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
