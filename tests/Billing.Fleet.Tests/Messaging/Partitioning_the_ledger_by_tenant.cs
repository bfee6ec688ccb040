using Billing.Contracts;

namespace Billing.Fleet.Tests.Messaging;

public sealed class Partitioning_the_ledger_by_tenant
{
    [Theory]
    [InlineData("", 0x811c9dc5u)]
    [InlineData("a", 0xe40c292cu)]
    [InlineData("foobar", 0xbf9cf968u)]
    public void The_hash_is_fnv_1a_of_the_utf8_bytes(string text, uint expected) =>
        Assert.Equal(expected, LedgerPartitions.Fnv1a(text));

    /// <summary>The fleet and every ledger, of any release, must agree: these values may never change.</summary>
    [Theory]
    [InlineData("tenant-a", 4, 3)]
    [InlineData("tenant-b", 4, 2)]
    [InlineData("acme", 4, 3)]
    [InlineData("globex", 7, 4)]
    [InlineData("tenänt", 7, 6)]
    [InlineData("acme", 1, 0)]
    public void A_tenant_always_goes_to_the_same_partition(string tenantId, int partitions, int expected) =>
        Assert.Equal(expected, LedgerPartitions.Of(tenantId, partitions));

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    public void Tenants_spread_evenly_over_the_partitions(int partitions)
    {
        var random = new Random(11);
        var counts = new int[partitions];
        const int Tenants = 20_000;
        for (var i = 0; i < Tenants; i++)
        {
            counts[LedgerPartitions.Of($"tenant-{random.Next():x}", partitions)]++;
        }

        Assert.All(counts, count => Assert.InRange(count, Tenants / partitions * 0.9, Tenants / partitions * 1.1));
    }

    [Fact]
    public void No_partitions_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LedgerPartitions.Of("acme", 0));
}
