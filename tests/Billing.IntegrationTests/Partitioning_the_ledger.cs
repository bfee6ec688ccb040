using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Messaging;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

/// <summary>The second of two ledger processes: its own partitions are the odd ones; it stands by for the even ones after 30 s.</summary>
public sealed class SecondLedgerPlatform : Platform
{
    protected override void Configure(IWebHostBuilder host)
    {
        host.UseSetting("Billing:Ledger:Instance", "1");
        host.UseSetting("Billing:Ledger:Instances", "2");
        host.UseSetting("Billing:Ledger:StandbyAfter", "00:00:30");
    }
}

public sealed class Partitioning_the_ledger(SecondLedgerPlatform platform) : IClassFixture<SecondLedgerPlatform>
{
    private static readonly DateTimeOffset Window = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_ledger_consumes_its_own_partitions_at_once_and_stands_by_for_the_others()
    {
        var queues = platform.Services.GetRequiredService<LedgerQueues>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var tenants = Enumerable.Range(0, queues.Partitions)
            .Select(p => Enumerable.Range(0, 1000).Select(i => $"part-{run}-{i}").First(t => queues.PartitionOf(t) == p))
            .ToList();
        var own = tenants.Where((_, p) => p % 2 == 1).ToList();

        // Sent before the even partitions have a consumer: the sender declares their queues as the ledger does.
        foreach (var tenant in tenants)
        {
            await platform.Services.GetRequiredService<LedgerRouter>().SendAsync(new UsageRecordedBatch(Guid.NewGuid(), [Usage(tenant)]));
        }

        await PlatformClient.EventuallyAsync(() => StoredAsync(own), own.Count);
        var partitionQueues = (await platform.QueuesAsync()).Where(q => q.GetProperty("name").GetString()!.StartsWith(queues.QueueName(0)[..^1], StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, queues.Partitions).Select(queues.QueueName), partitionQueues.Select(q => q.GetProperty("name").GetString()).Order());
        Assert.All(partitionQueues, q => Assert.True(q.GetProperty("arguments").GetProperty("x-single-active-consumer").GetBoolean()));
        Assert.Equal([1, 0, 1, 0], partitionQueues.OrderBy(q => q.GetProperty("name").GetString()).Select(q => q.GetProperty("messages").GetInt32()));

        await PlatformClient.EventuallyAsync(() => StoredAsync(tenants), tenants.Count, seconds: 90);
    }

    private static UsageRecorded Usage(string tenantId)
    {
        var leaseId = Guid.NewGuid();
        return new(DeterministicGuid.Create($"usage:{leaseId:N}:0"), leaseId, tenantId, "node-x", "H100-SXM-80GB", PricingModel.OnDemand, Window, 60m, Window.AddMinutes(1));
    }

    private async Task<int> StoredAsync(IReadOnlyList<string> tenants)
    {
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().QuerySession();
        return await session.Query<MeteredWindow>().CountAsync(w => w.TenantId.IsOneOf(tenants.ToArray()));
    }
}
