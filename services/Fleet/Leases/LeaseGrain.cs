using Microsoft.Extensions.DependencyInjection;
using Billing.Contracts.Fleet;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Messaging;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Leases;

/// <summary>
/// One lease: its lifecycle, and the metering of its GPUs into closed minute windows. Open windows
/// live only in memory; after a crash they are rebuilt from the durable heartbeat log, starting at
/// the persisted checkpoint, and re-published windows keep their ids, so nothing counts twice.
/// </summary>
public sealed partial class LeaseGrain(
    IDocumentStore store,
    IHeartbeatLog heartbeats,
    IFleetOutbox outbox,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time,
    IOptions<MeteringOptions> options,
    ILogger<LeaseGrain> logger) : Grain, ILeaseGrain
{
    private readonly TimeSpan timeout = options.Value.HeartbeatTimeout;
    private readonly List<UsageRecorded> unpublished = [];
    private LeaseRecord? record;
    private LeaseMeter? meter;
    private long publishedGpuMilliseconds;

    private Guid LeaseId => this.GetPrimaryKey();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        record = await session.LoadAsync<LeaseRecord>(LeaseId, cancellationToken);
        if (record is null || record.Settled)
        {
            return;
        }

        meter = LeaseMeter.Resume(record.Terms, record.Checkpoint);
        publishedGpuMilliseconds = record.ClosedGpuMilliseconds;
        await CatchUpAsync(cancellationToken);
        await PublishAsync();
    }

    public async Task<LeaseView> Start(LeaseSpec spec)
    {
        if (record is not null)
        {
            return View(record);
        }

        var startedAt = MeteringRules.ToMillisecond(time.GetUtcNow());
        var started = new LeaseRecord(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startedAt,
            LeaseStates.Running, null, startedAt, 0, false);
        await SaveAsync(started);
        meter = LeaseMeter.Start(started.Terms);
        await outbox.PublishAsync(new LeaseStarted(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startedAt));
        return View(started);
    }

    public async Task<LeaseView?> End()
    {
        if (record is null || meter is null || record.State != LeaseStates.Running)
        {
            return record is null ? null : View(record);
        }

        var (ended, closed) = meter.End(MeteringRules.ToMillisecond(time.GetUtcNow()));
        meter = ended;
        Queue(closed);
        var endedAt = ended.Terms.End!.Value;
        await SaveAsync(record with { State = LeaseStates.Ended, EndedAt = endedAt });
        await outbox.PublishAsync(new LeaseEnded(LeaseId, record.TenantId, LeaseStates.Ended, endedAt));
        await GrainFactory.GetGrain<INodeGrain>(record.NodeId).Release(LeaseId);
        await PublishAsync();
        return View(record);
    }

    public Task<LeaseView?> Get() => Task.FromResult(record is null ? null : View(record));

    public async Task<bool> Accrue(HeartbeatSample from, HeartbeatSample to)
    {
        if (record is null || meter is null)
        {
            // Not started yet (placement is under way), or settled before this activation.
            return record?.Settled ?? false;
        }

        if (from.ObservedAt > meter.AccruedThrough)
        {
            // Heartbeats this activation never saw (it started late, or a call failed): take them from the log.
            await CatchUpAsync(CancellationToken.None);
        }

        Apply(from, to);
        await PublishAsync();
        return record.Settled;
    }

    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        var samples = await heartbeats.ReadFromAsync(record!.NodeId, meter!.AccruedThrough, cancellationToken);
        for (var i = 1; i < samples.Count; i++)
        {
            Apply(samples[i - 1], samples[i]);
        }
    }

    private void Apply(HeartbeatSample from, HeartbeatSample to)
    {
        var (next, closed) = meter!.Accrue(from, to, timeout);
        meter = next;
        Queue(closed);
    }

    private void Queue(IReadOnlyList<WindowUsage> closed)
    {
        var now = time.GetUtcNow();
        unpublished.AddRange(closed.Where(w => w.GpuMilliseconds > 0).Select(w => new UsageRecorded(
            DeterministicGuid.Create($"usage:{LeaseId:N}:{w.WindowStart:O}"),
            LeaseId, record!.TenantId, record.NodeId, record.Sku, record.Pricing, w.WindowStart, w.GpuSeconds, now)));
    }

    /// <summary>Hands closed windows to the bus; on failure they stay queued and go with the next interval.</summary>
    private async Task PublishAsync()
    {
        if (unpublished.Count > 0)
        {
            try
            {
                await outbox.PublishUsageAsync([.. unpublished]);
                publishedGpuMilliseconds += unpublished.Sum(u => (long)(u.GpuSeconds * 1000));
                unpublished.Clear();
            }
            catch (Exception ex)
            {
                LogPublishDeferred(logger, ex, LeaseId, unpublished.Count);
                return;
            }
        }

        var checkpoint = meter!.Checkpoint;
        var settled = meter.IsSettled;
        if (settled || checkpoint - record!.Checkpoint >= options.Value.CheckpointEvery)
        {
            await SaveAsync(record! with { Checkpoint = checkpoint, ClosedGpuMilliseconds = publishedGpuMilliseconds, Settled = settled });
        }
    }

    private async Task SaveAsync(LeaseRecord changed)
    {
        await using var session = store.LightweightSession();
        session.Store(changed);
        await session.SaveChangesAsync();
        record = changed;
    }

    private LeaseView View(LeaseRecord lease)
    {
        var metered = lease.Settled
            ? lease.ClosedGpuMilliseconds
            : publishedGpuMilliseconds + unpublished.Sum(u => (long)(u.GpuSeconds * 1000)) + (meter?.OpenGpuMilliseconds ?? 0);
        return new LeaseView(lease.Id, lease.TenantId, lease.NodeId, lease.Sku, lease.Pricing, lease.GpuIndices, lease.State,
            lease.StartedAt, lease.EndedAt, metered / 1000m, lease.Settled);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {LeaseId}: {Count} usage windows not yet published; retrying with the next heartbeat.")]
    private static partial void LogPublishDeferred(ILogger logger, Exception exception, Guid leaseId, int count);
}
