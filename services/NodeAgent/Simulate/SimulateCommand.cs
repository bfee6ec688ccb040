using System.CommandLine;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Fleet;

namespace Billing.NodeAgent.Simulate;

/// <summary><c>simulate</c>: a fleet of simulated nodes, with failures and gaps injected on request.</summary>
public static class SimulateCommand
{
    public static Command Create()
    {
        var api = CliOptions.Api();
        var nodesFile = new Option<FileInfo>("--nodes-file")
        {
            Description = "JSON array of {nodeId, agentKey, gpuCount}. If it exists, its nodes are simulated as they are; " +
                "if not, the nodes registered with --ops-key are written to it, so a rerun can reuse their keys",
        };
        var opsKey = CliOptions.OpsKey(required: false);
        var nodes = CliOptions.Count("--nodes", 4, "Nodes to register (with --ops-key)", max: 100_000);
        var gpus = CliOptions.Count("--gpus", 8, "GPUs per registered node", max: 64);
        var sku = CliOptions.Sku();
        var region = new Option<string>("--region") { Description = "Region of the registered nodes", DefaultValueFactory = _ => "local-1" };
        var prefix = new Option<string>("--node-prefix") { Description = "Registered node ids are <prefix>-01, <prefix>-02, …", DefaultValueFactory = _ => "sim" };
        var interval = CliOptions.Duration("--interval", TimeSpan.FromSeconds(15), "Time between a node's heartbeats");
        var duration = CliOptions.Duration("--duration", TimeSpan.FromMinutes(2), "How long to run; 0 runs until Ctrl+C");
        var failRate = CliOptions.Probability("--fail-rate", "Per heartbeat and GPU, the chance that the GPU reports failed for the next 1-4 heartbeats");
        var gapRate = CliOptions.Probability("--gap-rate", "Per heartbeat and node, the chance that the node falls silent for 46-75 s");
        var fabrics = CliOptions.Fabrics();
        var rackSize = CliOptions.RackSize();
        var command = new Command("simulate", "Post heartbeats for a fleet of simulated GPU nodes, each with its own ordered, retrying sender")
        {
            api, nodesFile, opsKey, nodes, gpus, sku, region, prefix, interval, duration, failRate, gapRate, fabrics, rackSize,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(nodesFile) is not { Exists: true } && string.IsNullOrEmpty(result.GetValue(opsKey)))
            {
                result.AddError("Give either --nodes-file with an existing file of node keys, or --ops-key to register the nodes.");
            }
        });
        command.SetGuardedAction(async (parse, ct) =>
        {
            var client = ApiClient.Create(parse.GetValue(api)!, 256, TimeSpan.FromSeconds(10));
            var file = parse.GetValue(nodesFile);
            IReadOnlyList<FleetNode> fleet;
            if (file is { Exists: true })
            {
                fleet = await NodesFile.ReadAsync(file, ct);
                Log.Info($"Simulating the {fleet.Count} nodes of {file.FullName}.");
            }
            else
            {
                var ids = FleetRegistrar.NodeIds(parse.GetValue(prefix)!, parse.GetValue(nodes));
                fleet = await FleetRegistrar.RegisterAsync(client, parse.GetValue(opsKey)!, ids, parse.GetValue(sku)!, parse.GetValue(gpus),
                    parse.GetValue(region)!, 32, ct, new FleetTopology(parse.GetValue(fabrics), parse.GetValue(rackSize)));
                Log.Info($"Registered {fleet.Count} nodes: {fleet[0].NodeId} … {fleet[^1].NodeId}.");
                if (file is not null)
                {
                    await NodesFile.WriteAsync(file, fleet, ct);
                    Log.Info($"Wrote their agent keys to {file.FullName}.");
                }
            }

            var settings = new SimulationSettings(parse.GetValue(interval), parse.GetValue(failRate), parse.GetValue(gapRate));
            return await RunAsync(client, fleet, settings, parse.GetValue(duration), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(ApiClient client, IReadOnlyList<FleetNode> nodes, SimulationSettings settings, TimeSpan duration, CancellationToken ct)
    {
        var fleet = new SimulatedFleet(client, nodes, settings, keepAcknowledged: false);
        var started = DateTimeOffset.UtcNow;
        fleet.Start();
        Log.Info($"Simulating {nodes.Count} nodes for {(duration == TimeSpan.Zero ? "ever (Ctrl+C stops)" : Durations.Format(duration))}, " +
            $"a heartbeat every {Durations.Format(settings.Interval)}, fail rate {settings.FailRate}, gap rate {settings.GapRate}.");
        try
        {
            await Task.Delay(duration == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : duration, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }

        await fleet.StopAsync(TimeSpan.FromSeconds(10));
        var stats = fleet.Stats;
        Console.WriteLine($"Simulated {nodes.Count} nodes for {Durations.Format(DateTimeOffset.UtcNow - started)}:");
        Console.WriteLine($"  heartbeats accepted   {stats.Accepted,10}");
        Console.WriteLine($"  duplicates            {stats.Duplicates,10}");
        Console.WriteLine($"  refused (dropped)     {stats.Refused,10}");
        Console.WriteLine($"  retried attempts      {stats.Retried,10}");
        Console.WriteLine($"  nodes stopped by 401/403/404 {stats.FailedNodes,3}");
        return stats.FailedNodes > 0 ? 1 : 0;
    }
}
