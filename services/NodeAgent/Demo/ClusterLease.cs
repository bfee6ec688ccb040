using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Fleet;
using Billing.NodeAgent.Leasing;
using Billing.NodeAgent.Metering;

namespace Billing.NodeAgent.Demo;

/// <summary>
/// The demo's cluster lease: whole nodes of one fabric under <c>onNodeFailure: Replace</c>; one of its
/// nodes dies midway, and the lease is checked node by node against each node's own heartbeats.
/// </summary>
public static class ClusterLease
{
    public static async Task<TenantLease> StartAsync(ApiClient client, TenantCreated tenant, string sku, int gpus, TimeSpan patience, CancellationToken ct)
    {
        var lease = await LeaseRequests.RequestAsync(client, tenant.ApiKey, new RequestLease(sku, gpus, PricingModel.OnDemand, OnNodeFailure: "Replace"), patience, ct);
        Log.Info($"{tenant.Name}: cluster lease {lease.LeaseId} of {gpus} GPUs on " +
            string.Join(", ", lease.Nodes!.Select(n => $"{n.NodeId} ({n.Rack})")) + $" from {ApiJson.Format(lease.StartedAt)}.");
        return new TenantLease(tenant.ApiKey, lease);
    }

    /// <summary>
    /// Silences the lease's first node, then runs the fleet's maintenance job (as its schedule would,
    /// only sooner) until the platform has declared the node lost and a replacement has been vouched for.
    /// </summary>
    public static async Task LoseANodeAsync(ApiClient client, string opsKey, SimulatedFleet fleet, TenantLease cluster, TimeSpan timeout, CancellationToken ct)
    {
        var victim = cluster.Lease.Nodes![0].NodeId;
        fleet.Silence(victim);
        Log.Info($"Node {victim} of cluster lease {cluster.LeaseId} dies now; waiting for the platform to replace it.");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            try
            {
                await client.RunJobAsync(opsKey, "fleet-maintenance", ct);
                var lease = await client.GetLeaseAsync(cluster.TenantKey, cluster.LeaseId, ct);
                if (lease.Nodes!.FirstOrDefault(n => n.JoinedAt > lease.StartedAt && n.State == "Running") is { } joined)
                {
                    Log.Info($"Node {joined.NodeId} replaced {victim} (joined {ApiJson.Format(joined.JoinedAt)}, accruing from {ApiJson.Format(joined.AccruesFrom!.Value)}).");
                    return;
                }
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct))
            {
                Log.Warn($"Asking about the cluster lease failed ({ex.Message}); asking again.");
            }

            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"Node {victim} of cluster lease {cluster.LeaseId} was not replaced within {Durations.Format(timeout)}.");
            }
        }
    }

    /// <summary>One node's part by the metering rule over the span the lease gives it, from that node's acknowledged heartbeats.</summary>
    public static decimal? Expect(SimulatedFleet fleet, LeaseNode part) =>
        !fleet.Senders.TryGetValue(part.NodeId, out var sender) ? null
        : part.AccruesFrom is not { } from ? 0m
        : ExpectedUsage.GpuSeconds(sender.Acknowledged, part.GpuIndices, from, part.LeftAt);

    public static async Task<IReadOnlyList<NodeCheck>> CheckNodesAsync(ApiClient client, string tenantKey, SimulatedFleet fleet, Lease lease, CancellationToken ct)
    {
        var byNode = await client.GetUsageAsync(tenantKey, Clock.StartOfHour(lease.StartedAt), Clock.NextHour(Clock.Now), "hour", "node", ct, lease.LeaseId);
        return lease.Nodes!.Select(part => new NodeCheck(part, Expect(fleet, part),
            byNode.Buckets.Where(b => b.Key == part.NodeId).Sum(b => b.GpuSeconds), SpanFromHeartbeats(fleet, lease, part))).ToList();
    }

    /// <summary>A failed node left at its last acknowledged heartbeat; a replacement began at its first one after joining.</summary>
    private static bool SpanFromHeartbeats(SimulatedFleet fleet, Lease lease, LeaseNode part)
    {
        if (!fleet.Senders.TryGetValue(part.NodeId, out var sender))
        {
            return false;
        }

        var sent = sender.Acknowledged.Select(h => h.ObservedAt).ToList();
        var leftRight = part.State != "Failed" || part.LeftAt == sent.Max();
        var joinedRight = part.JoinedAt <= lease.StartedAt || part.AccruesFrom == sent.Where(t => t >= part.JoinedAt).DefaultIfEmpty().Min();
        return leftRight && joinedRight;
    }
}
