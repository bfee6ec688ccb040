using System.Diagnostics;
using Billing.NodeAgent.Agent;

namespace Billing.NodeAgent.Load;

/// <summary>Prints accepted heartbeats per second every few seconds while a phase runs.</summary>
public static class ThroughputMeter
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    public static async Task ReportAsync(string label, SenderStats stats, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var (lastAccepted, lastAt) = (stats.Accepted, TimeSpan.Zero);
        using var timer = new PeriodicTimer(Every);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var (accepted, at) = (stats.Accepted, clock.Elapsed);
                Console.WriteLine($"  [{label} {at.TotalSeconds,6:0.0}s] {(accepted - lastAccepted) / (at - lastAt).TotalSeconds,10:0.0} heartbeats/s accepted " +
                    $"(total {accepted}, retried {stats.Retried}, refused {stats.Refused})");
                (lastAccepted, lastAt) = (accepted, at);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
