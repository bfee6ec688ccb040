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
        var key = new Option<string>("--key") { Description = "This node's agent key, returned when it was registered", Required = true };
        var interval = CliOptions.Duration("--interval", TimeSpan.FromSeconds(15), "Time between heartbeats; keep it well under the 45 s timeout");
        var command = new Command("run", "Post this machine's GPU telemetry (from nvidia-smi) as heartbeats every interval") { api, nodeId, key, interval };
        command.SetGuardedAction((parse, ct) => RunAsync(parse.GetValue(api)!, parse.GetValue(nodeId)!, parse.GetValue(key)!, parse.GetValue(interval), ct));
        return command;
    }

    private static async Task<int> RunAsync(Uri apiUrl, string nodeId, string key, TimeSpan interval, CancellationToken ct)
    {
        if (await NvidiaSmi.QueryAsync(QueryTimeout, ct) is null)
        {
            Log.Error($"'{NvidiaSmi.Executable}' was not found on PATH: this machine has no NVIDIA driver to read GPUs from. " +
                "To post heartbeats for simulated GPUs, use 'billing-agent simulate' (see 'billing-agent simulate --help').");
            return 2;
        }

        var stats = new SenderStats();
        var sender = new NodeSender(ApiClient.Create(apiUrl, 4, TimeSpan.FromSeconds(10)), nodeId, key, stats);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sending = sender.RunAsync(stop.Token);
        var observing = ObserveAsync(sender, interval, stop.Token);
        Log.Info($"{nodeId}: posting a heartbeat every {Durations.Format(interval)} to {apiUrl}.");

        await Task.WhenAny(sending, observing);
        await stop.CancelAsync();
        await Task.WhenAll(sending, observing).ContinueWith(_ => { }, TaskScheduler.Default);

        Log.Info($"{nodeId}: stopped; {stats}; {sender.Pending} heartbeats still buffered were not sent.");
        return sender.Failed ? 1 : 0;
    }

    private static async Task ObserveAsync(NodeSender sender, TimeSpan interval, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(interval);
            do
            {
                var observedAt = Clock.Now;
                try
                {
                    var gpus = NvidiaSmi.Parse(await NvidiaSmi.QueryAsync(QueryTimeout, ct) ?? "");
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
