using Billing.Contracts;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Leases;

namespace Billing.Fleet.Tests.Heartbeats;

public sealed class Keeping_what_recovery_replays
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_unsettled_node_of_a_cluster_lease_keeps_its_heartbeats_from_its_checkpoint()
    {
        var cluster = new LeaseRecord(Guid.NewGuid(), "t", "a", "SKU", PricingModel.OnDemand, [0, 1], T0, LeaseState.Running, null, T0, 0, false, NodeCount: 3)
            .WithParts(
            [
                new LeasePart("a", null, [0, 1], T0, LeaseNodeState.Running, T0, Checkpoint: T0.AddMinutes(9)),
                new LeasePart("b", null, [0, 1], T0, LeaseNodeState.Running, T0, Checkpoint: T0.AddMinutes(7)),
                new LeasePart("c", null, [0, 1], T0, LeaseNodeState.Failed, T0, T0.AddMinutes(2), T0.AddMinutes(2), Settled: true),
                new LeasePart("d", null, [0, 1], T0.AddMinutes(3), LeaseNodeState.Joining, null),
            ]);
        var single = new LeaseRecord(Guid.NewGuid(), "t", "b", "SKU", PricingModel.Spot, [2], T0, LeaseState.Running, null, T0.AddMinutes(5), 0, false);

        var floors = HeartbeatRetentionJob.ReplayedFrom([cluster, single]);

        Assert.Equal(
            new Dictionary<string, DateTimeOffset> { ["a"] = T0.AddMinutes(9), ["b"] = T0.AddMinutes(5), ["d"] = T0.AddMinutes(3) },
            floors.OrderBy(f => f.Key).ToDictionary());
    }
}
