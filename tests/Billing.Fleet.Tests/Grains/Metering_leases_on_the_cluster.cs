namespace Billing.Fleet.Tests.Grains;

[Collection(FleetClusterCollection.Name)]
public sealed class Metering_leases_on_the_cluster(FleetCluster cluster)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly FleetScenario fleet = new(cluster);

    /// <summary>Heartbeats every 15 s; the lease runs 180 s on 2 GPUs, starting 5 s after a heartbeat.</summary>
    private async Task<Guid> RunLeaseAsync(Func<int, Task>? afterHeartbeat = null)
    {
        var node = await fleet.NodeAsync();
        await fleet.HeartbeatAsync(node);
        fleet.Advance(TimeSpan.FromSeconds(5));
        var lease = await fleet.StartLeaseAsync(2);
        Assert.NotNull(lease);
        fleet.Advance(TimeSpan.FromSeconds(10));
        for (var i = 1; i <= 12; i++)
        {
            await fleet.HeartbeatAsync(node);
            if (afterHeartbeat is not null)
            {
                await afterHeartbeat(i);
            }

            fleet.Advance(i == 12 ? TimeSpan.FromSeconds(5) : Interval);
        }

        await fleet.EndLeaseAsync(lease.LeaseId);
        fleet.Advance(TimeSpan.FromSeconds(10));
        await fleet.HeartbeatAsync(node);
        return lease.LeaseId;
    }

    [Fact]
    public async Task Publishes_exact_minute_windows_and_settles_after_the_end()
    {
        var leaseId = await RunLeaseAsync();

        var usage = FleetCluster.Outbox.UsageOf(leaseId);
        var view = await fleet.LeaseAsync(leaseId);
        Assert.Equal(360m, usage.Sum(u => u.GpuSeconds));
        Assert.Equal(usage.Count, usage.Select(u => u.UsageId).Distinct().Count());
        Assert.All(usage, u => Assert.InRange(u.GpuSeconds, 0.001m, 120m));
        Assert.True(view!.Settled);
        Assert.Equal(360m, view.GpuSeconds);
    }

    [Fact]
    public async Task Losing_every_activation_mid_lease_loses_and_doubles_nothing()
    {
        var leaseId = await RunLeaseAsync(heartbeat => heartbeat is 5 or 9 ? cluster.DeactivateAllAsync() : Task.CompletedTask);

        var windows = FleetCluster.Outbox.UsageOf(leaseId).GroupBy(u => u.UsageId).ToList();
        Assert.All(windows, w => Assert.Single(w.Select(u => (u.WindowStart, u.GpuSeconds)).Distinct()));
        Assert.Equal(360m, windows.Sum(w => w.First().GpuSeconds));
        Assert.Equal(360m, (await fleet.LeaseAsync(leaseId))!.GpuSeconds);
    }

    [Fact]
    public async Task A_gpu_reported_failed_stops_accruing_from_that_heartbeat()
    {
        var node = await fleet.NodeAsync(gpus: 2);
        await fleet.HeartbeatAsync(node, healthy: 0b11);
        var lease = await fleet.StartLeaseAsync(2);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node, healthy: 0b11);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node, healthy: 0b01);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node, healthy: 0b11);
        await fleet.EndLeaseAsync(lease!.LeaseId);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node, healthy: 0b11);

        // 15 s on both GPUs, then two intervals on GPU 0 only: GPU 1 failed at the middle heartbeat.
        Assert.Equal(60m, FleetCluster.Outbox.UsageOf(lease.LeaseId).Sum(u => u.GpuSeconds));
        Assert.Equal(30m, FleetCluster.Outbox.UsageOf(lease.LeaseId).Sum(u => u.UnbilledGpuSeconds));
    }

    [Fact]
    public async Task A_gap_longer_than_the_timeout_is_not_billed()
    {
        var node = await fleet.NodeAsync(gpus: 1);
        await fleet.HeartbeatAsync(node);
        var lease = await fleet.StartLeaseAsync(1);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node);
        fleet.Advance(TimeSpan.FromSeconds(46));
        await fleet.HeartbeatAsync(node);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node);
        await fleet.EndLeaseAsync(lease!.LeaseId);
        fleet.Advance(Interval);
        await fleet.HeartbeatAsync(node);

        Assert.Equal(30m, FleetCluster.Outbox.UsageOf(lease.LeaseId).Sum(u => u.GpuSeconds));
        Assert.Equal(46m, FleetCluster.Outbox.UsageOf(lease.LeaseId).Sum(u => u.UnbilledGpuSeconds)); // the 46 s gap
    }
}
