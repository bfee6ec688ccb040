using System.CommandLine;
using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Run;

/// <summary><c>run</c>: the agent of one real node, reading its GPUs with nvidia-smi.</summary>
public static class RunCommand
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var api = CliOptions.Api();
        var nodeId = new Option<string>("--node-id") { Description = "This node's id, as registered", Required = true };
        var keyFile = new Option<string>("--key-file")
        {
            Description = $"A file holding this node's agent key (returned when it was registered); without it, the {AgentKey.Variable} environment variable",
        };
        var stateDirectory = new Option<string>("--state-dir")
        {
            Description = "Where heartbeats not yet acknowledged are kept, so a restart sends them",
            DefaultValueFactory = _ => "/var/lib/billing-agent",
        };
        var maxUnsent = CliOptions.Count("--max-unsent", 5760, "Unsent heartbeats kept at most, the oldest dropped first (5760: a day at 15 s)");
        var interval = CliOptions.Duration("--interval", TimeSpan.FromSeconds(15), "Time between heartbeats; keep it well under the 45 s timeout");
        var command = new Command("run", "Post this machine's GPU telemetry (from nvidia-smi) as heartbeats every interval")
        {
            api, nodeId, keyFile, stateDirectory, maxUnsent, interval,
        };
        command.SetGuardedAction((parse, ct) => RunAsync(
            parse.GetValue(api)!, parse.GetValue(nodeId)!, parse.GetValue(keyFile), parse.GetValue(stateDirectory)!, parse.GetValue(maxUnsent), parse.GetValue(interval), ct));
        return command;
    }

    private static async Task<int> RunAsync(
        Uri apiUrl, string nodeId, string? keyFile, string stateDirectory, int maxUnsent, TimeSpan interval, CancellationToken ct)
    {
        if (AgentKey.Read(keyFile, Environment.GetEnvironmentVariable) is not { } key)
        {
            Log.Error($"No agent key: give --key-file or set {AgentKey.Variable}.");
            return 2;
        }

        if (await NvidiaSmi.QueryAsync(QueryTimeout, ct) is null)
        {
            Log.Error($"'{NvidiaSmi.Executable}' was not found on PATH: this machine has no NVIDIA driver to read GPUs from. " +
                "To post heartbeats for simulated GPUs, use 'billing-agent simulate' (see 'billing-agent simulate --help').");
            return 2;
        }

        var stats = new SenderStats();
        var journal = HeartbeatJournal.Open(stateDirectory, nodeId, maxUnsent);
        var sender = new NodeSender(ApiClient.Create(apiUrl, 4, TimeSpan.FromSeconds(10)), nodeId, key, stats, journal: journal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sending = sender.RunAsync(stop.Token);
        var observing = ObserveAsync(sender, interval, stop.Token);
        Log.Info($"{nodeId}: posting a heartbeat every {Durations.Format(interval)} to {apiUrl}; {journal.Unsent.Count} unsent heartbeats from the last run go first.");

        await Task.WhenAny(sending, observing);
        await stop.CancelAsync();
        await Task.WhenAll(sending, observing).ContinueWith(_ => { }, TaskScheduler.Default);

        Log.Info($"{nodeId}: stopped; {stats}; {sender.Pending} heartbeats not yet sent stay in {stateDirectory} for the next run.");
        return sender.Failed ? 1 : 0;
    }

    private static async Task ObserveAsync(NodeSender sender, TimeSpan interval, CancellationToken ct)
    {
        var xids = new XidWatcher(QueryTimeout);
        var xidsReadable = true;
        try
        {
            using var timer = new PeriodicTimer(interval);
            do
            {
                var observedAt = Clock.Now;
                try
                {
                    var statuses = NvidiaSmi.Parse(await NvidiaSmi.QueryAsync(QueryTimeout, ct) ?? "");
                    var fresh = await xids.NewAsync(ct);
                    if (fresh is null && xidsReadable)
                    {
                        Log.Warn($"{sender.NodeId}: '{XidWatcher.Executable}' cannot be read (run the agent with CAP_SYSLOG, or set kernel.dmesg_restrict=0); XID errors go unseen.");
                    }

                    xidsReadable = fresh is not null;
                    var gpus = NvidiaSmi.WithXids(statuses, fresh ?? []);
                    foreach (var (status, gpu) in statuses.Zip(gpus).Where(p => !p.Second.Healthy))
                    {
                        Log.Warn($"{sender.NodeId}: GPU {gpu.Index} unhealthy: {string.Join("; ", status.Faults.Append(gpu.Xid is { } xid ? $"XID {xid}" : null).OfType<string>())}.");
                    }

                    if (gpus.Count == 0)
                    {
                        // Without a GPU the heartbeat is invalid; the gap it leaves accrues nothing, which is right.
                        Log.Warn($"{sender.NodeId}: nvidia-smi reported no GPU; no heartbeat this time.");
                        continue;
                    }

                    sender.Enqueue(new Heartbeat(observedAt, gpus));
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                {
                    Log.Warn($"{sender.NodeId}: {ex.Message}; no heartbeat this time.");
                }
            }
            while (!sender.Failed && await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
