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
    FleetMetrics metrics,
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

        metrics.Lease(record.Id, record.Sku, record.State.ToString(), ended: !record.State.Holds());
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

        var now = MeteringRules.ToMillisecond(time.GetUtcNow());
        var startsAt = spec.StartsAt is { } later && later > now ? MeteringRules.ToMillisecond(later) : now;
        var state = startsAt > now ? LeaseState.Pending : LeaseState.Running;
        var started = new LeaseRecord(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startsAt,
            state, null, startsAt, 0, false);
        await SaveAsync(started);
        meter = LeaseMeter.Start(started.Terms);
        if (state == LeaseState.Pending)
        {
            await outbox.PublishAsync(new LeasePending(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startsAt));
        }
        else
        {
            await outbox.PublishAsync(new LeaseStarted(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startsAt));
        }
        return View(started);
    }

    public async Task<LeaseView?> End()
    {
        if (record is null || !record.State.Holds())
        {
            return record is null ? null : View(record);
        }

        var at = record.PreemptAt is { } preemptAt && preemptAt < time.GetUtcNow() ? preemptAt : time.GetUtcNow();
        await FinishAsync(LeaseState.Ended, at);
        await GrainFactory.GetGrain<INodeGrain>(record.NodeId).Release(LeaseId);
        return View(record);
    }

    public async Task Activate()
    {
        if (record is { State: LeaseState.Pending } pending && time.GetUtcNow() >= pending.StartedAt)
        {
            await SaveAsync(pending with { State = LeaseState.Running });
            await outbox.PublishAsync(new LeaseStarted(LeaseId, pending.TenantId, pending.NodeId, pending.Sku, pending.Pricing, pending.GpuIndices, pending.StartedAt));
        }
    }

    public async Task SchedulePreemption(DateTimeOffset preemptAt)
    {
        if (record is not { State: LeaseState.Running } running || meter is null)
        {
            return;
        }

        var (ended, closed) = meter.End(MeteringRules.ToMillisecond(preemptAt));
        meter = ended;
        Queue(closed);
        var at = ended.Terms.End!.Value;
        await SaveAsync(running with { State = LeaseState.PreemptionScheduled, PreemptAt = at });
        await outbox.PublishAsync(new LeasePreemptionScheduled(LeaseId, running.TenantId, at, time.GetUtcNow()));
        await PublishAsync();
    }

    public async Task CompletePreemption()
    {
        if (record is { State: LeaseState.PreemptionScheduled, PreemptAt: { } at })
        {
            await FinishAsync(LeaseState.Preempted, at);
        }
    }

    public async Task Interrupt(DateTimeOffset at)
    {
        if (record is not null && record.State.Holds())
        {
            var end = record.PreemptAt is { } preemptAt && preemptAt < at ? preemptAt : at;
            await FinishAsync(LeaseState.Interrupted, end < record.StartedAt ? record.StartedAt : end);
        }
    }

    /// <summary>Stops accrual at <paramref name="at"/> (never before what heartbeats already vouched for) and records why.</summary>
    private async Task FinishAsync(LeaseState state, DateTimeOffset at)
    {
        var (ended, closed) = meter!.End(MeteringRules.ToMillisecond(at));
        meter = ended;
        Queue(closed);
        var endedAt = ended.Terms.End!.Value;
        await SaveAsync(record! with { State = state, EndedAt = endedAt });
        await outbox.PublishAsync(new LeaseEnded(LeaseId, record!.TenantId, state.ToString(), endedAt));
        await PublishAsync();
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
        unpublished.AddRange(closed.Where(w => !w.IsEmpty).Select(w => new UsageRecorded(
            DeterministicGuid.Create($"usage:{LeaseId:N}:{w.WindowStart:O}"),
            LeaseId, record!.TenantId, record.NodeId, record.Sku, record.Pricing, w.WindowStart, w.GpuSeconds, now, w.UnbilledGpuSeconds)));
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
        metrics.Lease(changed.Id, changed.Sku, changed.State.ToString(), ended: !changed.State.Holds());
    }

    private LeaseView View(LeaseRecord lease)
    {
        var metered = lease.Settled
            ? lease.ClosedGpuMilliseconds
            : publishedGpuMilliseconds + unpublished.Sum(u => (long)(u.GpuSeconds * 1000)) + (meter?.OpenGpuMilliseconds ?? 0);
        return new LeaseView(lease.Id, lease.TenantId, lease.NodeId, lease.Sku, lease.Pricing, lease.GpuIndices, lease.State,
            lease.StartedAt, lease.EndedAt, metered / 1000m, lease.Settled, lease.PreemptAt);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {LeaseId}: {Count} usage windows not yet published; retrying with the next heartbeat.")]
    private static partial void LogPublishDeferred(ILogger logger, Exception exception, Guid leaseId, int count);
}
