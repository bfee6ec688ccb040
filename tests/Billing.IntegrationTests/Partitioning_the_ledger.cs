using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Messaging;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

/// <summary>
/// The ledger consumes its partitions side by side; what goes in through the fleet's outbox comes out
/// once per window, in each lease stream in the order the fleet published it, across a restart.
/// </summary>
public sealed class Partitioning_the_ledger(Platform platform) : IClassFixture<Platform>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 9, 45, 0, TimeSpan.Zero);

    private IFleetOutbox Outbox => platform.Services.GetRequiredService<IFleetOutbox>();

    private IDocumentStore Store => platform.Services.GetRequiredService<IDocumentStore>();

    private static UsageRecorded Usage(string tenantId, Guid leaseId, int minute) =>
        new(DeterministicGuid.Create($"usage:{leaseId:N}:{minute}"), leaseId, tenantId, "node-p", "H100-SXM-80GB", PricingModel.OnDemand,
            Start.AddMinutes(minute), 60m + (minute % 7) + 0.001m * (leaseId.GetHashCode() & 0xff), Start.AddMinutes(minute + 1));

    private static List<Guid> Leases(int count) => [.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid())];

    private async Task<(int Windows, decimal GpuSeconds)> StoredAsync(string tenantId)
    {
        await using var session = Store.QuerySession();
        var windows = await session.Query<MeteredWindow>().Where(w => w.TenantId == tenantId).ToListAsync();
        return (windows.Count, windows.Sum(w => w.GpuSeconds));
    }

    [Fact]
    public async Task Each_lease_stream_holds_its_lifecycle_and_usage_in_publication_order()
    {
        var tenantId = $"ordered-{Guid.NewGuid():N}";
        var leases = Leases(24);
        var partitions = platform.Services.GetRequiredService<LedgerPartitions>();
        Assert.True(leases.Select(partitions.Of).Distinct().Count() >= 4, "the leases did not spread over the partitions; the test proves nothing");

        await Task.WhenAll(leases.Select(l => Outbox.PublishAsync(new LeaseStarted(l, tenantId, "node-p", "H100-SXM-80GB", PricingModel.OnDemand, [0], Start))));
        for (var minute = 0; minute < 4; minute++)
        {
            await Outbox.PublishUsageAsync([.. leases.Select(l => Usage(tenantId, l, minute))]);
        }

        await Task.WhenAll(leases.Select(l => Outbox.PublishAsync(new LeaseEnded(l, tenantId, "Ended", Start.AddMinutes(4.5)))));
        // The window the end falls in settles after the end, as a lease grain publishes it.
        await Outbox.PublishUsageAsync([.. leases.Select(l => Usage(tenantId, l, 4))]);

        await PlatformClient.EventuallyAsync(async () => (await StoredAsync(tenantId)).Windows, leases.Count * 5);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        await using var session = Store.QuerySession();
        foreach (var lease in leases)
        {
            var events = await session.Events.FetchStreamAsync(lease);
            Assert.Equal(
                ["LeaseStarted", "UsageRecorded", "UsageRecorded", "UsageRecorded", "UsageRecorded", "LeaseEnded", "UsageRecorded"],
                events.Select(e => e.EventType.Name));
            Assert.Equal(Enumerable.Range(0, 5).Select(m => Start.AddMinutes(m)), events.Select(e => e.Data).OfType<UsageRecorded>().Select(u => u.WindowStart));
        }
    }

    [Fact]
    public async Task A_ledger_restarted_mid_stream_and_usage_sent_again_store_every_window_once()
    {
        var tenantId = $"restarted-{Guid.NewGuid():N}";
        var leases = Leases(20);
        var minutes = Enumerable.Range(0, 30).ToList();
        var usage = minutes.Select(m => leases.Select(l => Usage(tenantId, l, m)).ToList()).ToList();
        var expected = (leases.Count * minutes.Count, usage.SelectMany(u => u).Sum(u => u.GpuSeconds));

        await Task.WhenAll(usage.Select(u => Outbox.PublishUsageAsync(u)));
        await platform.RestartAsync();
        // A fleet that crashed publishes its last windows again.
        await Task.WhenAll(usage.Take(10).Select(u => Outbox.PublishUsageAsync(u)));

        await PlatformClient.EventuallyAsync(() => StoredAsync(tenantId), expected);
        await PlatformClient.EventuallyAsync(platform.BrokerIdleAsync, true);
        Assert.Equal(expected, await StoredAsync(tenantId));
        await using var session = Store.QuerySession();
        var appended = await session.Events.QueryRawEventDataOnly<UsageRecorded>().Where(u => u.TenantId == tenantId).ToListAsync();
        Assert.Equal(expected.Item1, appended.Count);
        Assert.Equal(expected.Item1, appended.Select(u => u.UsageId).Distinct().Count());
    }

    [Fact]
    public async Task The_hourly_read_model_equals_the_streams_after_a_loaded_run()
    {
        var tenantId = $"loaded-{Guid.NewGuid():N}";
        var leases = Leases(60);
        var usage = Enumerable.Range(0, 30).Select(m => leases.Select(l => Usage(tenantId, l, m)).ToList()).ToList();

        // Every minute of every lease at once: the partitions' transactions overlap, and their event
        // sequence numbers commit out of order, which the projection daemon must not skip.
        await Task.WhenAll(usage.Select(u => Outbox.PublishUsageAsync(u)));
        await PlatformClient.EventuallyAsync(async () => (await StoredAsync(tenantId)).Windows, leases.Count * usage.Count);

        await using var session = Store.QuerySession();
        var fromStreams = (await session.Events.QueryRawEventDataOnly<UsageRecorded>().Where(u => u.TenantId == tenantId).ToListAsync())
            .GroupBy(UsageHour.IdFor).Select(h => (h.Key, h.Sum(u => u.GpuSeconds), h.Count())).Order().ToList();
        Assert.Equal(leases.Count * 2, fromStreams.Count);
        await PlatformClient.EventuallyAsync(async () =>
        {
            await using var query = Store.QuerySession();
            var hours = await query.Query<UsageHour>().Where(h => h.TenantId == tenantId).ToListAsync();
            return string.Join(";", hours.Select(h => (h.Id, h.GpuSeconds, h.Windows)).Order());
        }, string.Join(";", fromStreams));
    }
}
