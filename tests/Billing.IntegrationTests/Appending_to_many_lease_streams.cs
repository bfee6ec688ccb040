using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using JasperFx.Events;
using Marten;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Billing.IntegrationTests;

/// <summary><see cref="LeaseStreams"/> writes what Marten's own append would: Marten reads it back as its own.</summary>
public sealed class Appending_to_many_lease_streams(Platform platform) : IClassFixture<Platform>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);

    private IDocumentStore Store => platform.Services.GetRequiredService<IDocumentStore>();

    private static UsageRecorded Usage(Guid leaseId, int minute) =>
        new(Guid.NewGuid(), leaseId, "tenant-streams", "node-s", "H100-SXM-80GB", PricingModel.OnDemand, Start.AddMinutes(minute), 60m + minute, Start.AddMinutes(minute + 1));

    private async Task AppendAsync(params (Guid StreamId, IReadOnlyList<object> Events)[] streams)
    {
        await using var connection = await platform.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var session = Store.LightweightSession(SessionOptions.ForTransaction(transaction, shouldAutoCommit: false));
        await LeaseStreams.AppendAsync(session, connection, streams, CancellationToken.None);
        await session.SaveChangesAsync();
        await transaction.CommitAsync();
    }

    [Fact]
    public async Task New_and_existing_streams_get_their_versions_and_sequence_in_order()
    {
        var (existing, fresh) = (Guid.NewGuid(), Guid.NewGuid());
        var started = new LeaseStarted(existing, "tenant-streams", "node-s", "H100-SXM-80GB", PricingModel.OnDemand, [0, 1], Start);
        await AppendAsync((existing, [started, Usage(existing, 0)]));

        var ended = new LeaseEnded(existing, "tenant-streams", "Ended", Start.AddMinutes(3));
        await AppendAsync((existing, [Usage(existing, 1), Usage(existing, 2), ended]), (fresh, [Usage(fresh, 0)]));

        await using var session = Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(existing);
        Assert.Equal([1L, 2, 3, 4, 5], events.Select(e => e.Version));
        Assert.True(events.Select(e => e.Sequence).SequenceEqual(events.Select(e => e.Sequence).Order()), "sequence numbers follow the stream's order");
        Assert.Equal([0, 1], Assert.IsType<LeaseStarted>(events[0].Data).GpuIndices);
        Assert.Equal([0, 1, 2], events.Skip(1).Take(3).Select(e => (int)(Assert.IsType<UsageRecorded>(e.Data).WindowStart - Start).TotalMinutes));
        Assert.Equal(ended, events[^1].Data);
        Assert.Equal(["lease_started", "usage_recorded", "usage_recorded", "usage_recorded", "lease_ended"], events.Select(e => e.EventTypeName));
        Assert.Equal(5, (await session.Events.FetchStreamStateAsync(existing))!.Version);

        var freshEvents = await session.Events.FetchStreamAsync(fresh);
        Assert.Equal(1, Assert.Single(freshEvents).Version);
        Assert.Equal(1, (await session.Events.FetchStreamStateAsync(fresh))!.Version);
        Assert.True(freshEvents[0].Sequence > events[^1].Sequence, "the second stream's events follow the first's");
    }

    [Fact]
    public async Task An_archived_stream_refuses_the_whole_append()
    {
        var (archived, other) = (Guid.NewGuid(), Guid.NewGuid());
        await AppendAsync((archived, [Usage(archived, 0)]));
        await using (var archiving = Store.LightweightSession())
        {
            archiving.Events.ArchiveStream(archived);
            await archiving.SaveChangesAsync();
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => AppendAsync((archived, [Usage(archived, 1)]), (other, [Usage(other, 0)])));
        Assert.Contains(archived.ToString(), refused.Message, StringComparison.Ordinal);

        await using var session = Store.QuerySession();
        Assert.Null(await session.Events.FetchStreamStateAsync(other));
        Assert.Equal(1, (await session.Events.FetchStreamStateAsync(archived))!.Version);
    }

    [Fact]
    public async Task Two_transactions_appending_to_one_stream_at_once_both_land_in_turn()
    {
        var leaseId = Guid.NewGuid();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => AppendAsync((leaseId, [Usage(leaseId, i * 2), Usage(leaseId, i * 2 + 1)])))));

        await using var session = Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(leaseId);
        Assert.Equal(Enumerable.Range(1, 16).Select(v => (long)v), events.Select(e => e.Version));
        Assert.Equal(16, events.Select(e => ((UsageRecorded)e.Data).UsageId).Distinct().Count());
        Assert.Equal(16, (await session.Events.FetchStreamStateAsync(leaseId))!.Version);
    }
}
