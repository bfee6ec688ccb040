using Microsoft.Extensions.DependencyInjection;
using Billing.Contracts.Fleet;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Messaging;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Placement;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Leases;

/// <summary>
/// One lease: its lifecycle, and the metering of its GPUs into closed minute windows, one meter per
/// node it spans. Open windows live only in memory; after a crash they are rebuilt from the durable
/// heartbeat log, starting at each node's persisted checkpoint, and re-published windows keep their
/// ids, so nothing counts twice.
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
    private readonly Dictionary<string, LeaseMeter> meters = [];
    private readonly Dictionary<string, long> publishedGpuMilliseconds = [];
    private LeaseRecord? record;

    private Guid LeaseId => this.GetPrimaryKey();

    private DateTimeOffset Now => time.GetUtcNow();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        record = await session.LoadAsync<LeaseRecord>(LeaseId, cancellationToken);
        if (record is null || record.Settled)
        {
            return;
        }

        metrics.Lease(record.Id, record.Sku, record.State.ToString(), ended: !record.State.Holds());
        foreach (var part in record.NodeParts.Where(p => !p.Settled && p.Terms is not null))
        {
            meters[part.NodeId] = LeaseMeter.Resume(part.Terms!, part.Checkpoint ?? part.AccruesFrom!.Value);
            publishedGpuMilliseconds[part.NodeId] = part.ClosedGpuMilliseconds;
            await CatchUpAsync(part.NodeId, cancellationToken);
        }

        await PublishAsync();
    }

    public async Task<LeaseView> Start(LeaseSpec spec)
    {
        if (record is not null)
        {
            return View(record);
        }

        var now = MeteringRules.ToMillisecond(Now);
        var startsAt = spec.StartsAt is { } later && later > now ? MeteringRules.ToMillisecond(later) : now;
        var state = startsAt > now ? LeaseState.Pending : LeaseState.Running;
        var nodes = spec.Nodes ?? [new Allocation(spec.NodeId, spec.GpuIndices, 0, spec.StartsAt)];
        var parts = nodes.Select(n => new LeasePart(n.NodeId, n.Rack, n.GpuIndices, startsAt, LeaseNodeState.Running, startsAt, Checkpoint: startsAt)).ToList();
        var started = new LeaseRecord(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startsAt,
            state, null, startsAt, 0, false, Fabric: spec.Fabric, NodeCount: parts.Count, OnNodeFailure: spec.OnNodeFailure).WithParts(parts);
        await SaveAsync(started);
        foreach (var part in parts)
        {
            meters[part.NodeId] = LeaseMeter.Start(part.Terms!);
        }

        if (state == LeaseState.Pending)
        {
            await outbox.PublishAsync(new LeasePending(LeaseId, spec.TenantId, spec.NodeId, spec.Sku, spec.Pricing, spec.GpuIndices, startsAt));
        }
        else
        {
            await PublishStartedAsync(started);
        }

        return View(started);
    }

    public async Task<LeaseView?> End()
    {
        if (record is null || !record.State.Holds())
        {
            return record is null ? null : View(record);
        }

        var at = record.PreemptAt is { } preemptAt && preemptAt < Now ? preemptAt : Now;
        await FinishAsync(LeaseState.Ended, at);
        return View(record);
    }

    public async Task Activate()
    {
        if (record is { State: LeaseState.Pending } pending && Now >= pending.StartedAt)
        {
            await SaveAsync(pending with { State = LeaseState.Running });
            await PublishStartedAsync(pending);
        }
    }

    public async Task SchedulePreemption(DateTimeOffset preemptAt)
    {
        if (record is not { State: LeaseState.Running } running)
        {
            return;
        }

        var ended = EndParts(running.NodeParts, MeteringRules.ToMillisecond(preemptAt));
        var at = ended.Max(p => p.LeftAt ?? preemptAt);
        await SaveAsync((running with { State = LeaseState.PreemptionScheduled, PreemptAt = at }).WithParts(ended));
        await outbox.PublishAsync(new LeasePreemptionScheduled(LeaseId, running.TenantId, at, Now));

        // Preempted whole: every node holds the GPUs until the same notice runs out, and none offers them to another preemption.
        await Task.WhenAll(ended.Where(p => p.Active).Select(p => GrainFactory.GetGrain<INodeGrain>(p.NodeId).Preempting(LeaseId, at)));
        await PublishAsync();
    }

    public async Task CompletePreemption()
    {
        if (record is { State: LeaseState.PreemptionScheduled, PreemptAt: { } at })
        {
            await FinishAsync(LeaseState.Preempted, at);
        }
    }

    public Task Interrupt(DateTimeOffset at) => InterruptAsync(at, failedNodeId: null);

    public async Task NodeFailed(string nodeId, DateTimeOffset at)
    {
        if (record is null || !record.State.Holds() || !record.NodeParts.Any(p => p.NodeId == nodeId && p.Active))
        {
            return;
        }

        if (!record.IsCluster || record.OnNodeFailure == NodeFailurePolicy.End || record.NodeParts.Count(p => p.Active) == 1)
        {
            await InterruptAsync(at, nodeId);
            return;
        }

        // Only this node's GPUs stop accruing; the others' windows go on as before.
        var parts = record.NodeParts.Select(p => p.NodeId == nodeId && p.Active ? EndPart(p, TimeMath.Max(at, p.JoinedAt), LeaseNodeState.Failed) : p).ToList();
        await SaveAsync(record.WithParts(parts));
        var left = parts.Last(p => p.NodeId == nodeId);
        await outbox.PublishAsync(new LeaseNodeLeft(LeaseId, record.TenantId, nodeId, left.LeftAt!.Value, left.State.ToString()));
        await GrainFactory.GetGrain<INodeGrain>(nodeId).Release(LeaseId);
        await PublishAsync();
        if (record.OnNodeFailure == NodeFailurePolicy.Replace)
        {
            // One way: the pool calls node grains and this lease, and this call may have come from a node.
            await GrainFactory.GetGrain<ISkuPoolGrain>(record.Sku).Replace(LeaseId);
        }
    }

    private async Task InterruptAsync(DateTimeOffset at, string? failedNodeId)
    {
        if (record is not null && record.State.Holds())
        {
            var end = record.PreemptAt is { } preemptAt && preemptAt < at ? preemptAt : at;
            await FinishAsync(LeaseState.Interrupted, end < record.StartedAt ? record.StartedAt : end, failedNodeId);
        }
    }

    public async Task<bool> Join(Allocation allocation)
    {
        if (record is not { State: LeaseState.Running, Degraded: true } running || running.NodeParts.Any(p => p.NodeId == allocation.NodeId))
        {
            return false;
        }

        var now = MeteringRules.ToMillisecond(Now);
        var replaced = running.NodeParts.First(p => p.State == LeaseNodeState.Failed && p.ReplacedBy is null);
        var parts = running.NodeParts
            .Select(p => p == replaced ? p with { ReplacedBy = allocation.NodeId } : p)
            .Append(new LeasePart(allocation.NodeId, allocation.Rack, allocation.GpuIndices, now, LeaseNodeState.Joining, null))
            .ToList();
        await SaveAsync(running.WithParts(parts));
        await outbox.PublishAsync(new LeaseNodeReplaced(LeaseId, running.TenantId, replaced.NodeId, replaced.LeftAt ?? now,
            new LeaseNode(allocation.NodeId, allocation.Rack, allocation.GpuIndices), now));
        return true;
    }

    public Task<LeaseView?> Get() => Task.FromResult(record is null ? null : View(record));

    public async Task<bool> Accrue(string nodeId, HeartbeatSample from, HeartbeatSample to)
    {
        if (record is null)
        {
            // Not started yet: placement is under way.
            return false;
        }

        var part = record.NodeParts.LastOrDefault(p => p.NodeId == nodeId);
        if (part is null || part.Settled)
        {
            return true;
        }

        if (part.Terms is null)
        {
            await VouchAsync(part, to);
            return record.NodeParts.Last(p => p.NodeId == nodeId).Settled;
        }

        if (from.ObservedAt > meters[nodeId].AccruedThrough)
        {
            // Heartbeats this activation never saw (it started late, or a call failed): take them from the log.
            await CatchUpAsync(nodeId, CancellationToken.None);
        }

        Apply(nodeId, from, to);
        await PublishAsync();
        return record.NodeParts.Last(p => p.NodeId == nodeId).Settled;
    }

    /// <summary>A joining node's GPUs accrue from its first heartbeat after it joined; one that left before any never accrues.</summary>
    private async Task VouchAsync(LeasePart part, HeartbeatSample heartbeat)
    {
        if (!part.Active)
        {
            await SaveAsync(record!.WithParts(record.NodeParts.Select(p => p == part ? p with { Settled = true } : p).ToList()));
        }
        else if (heartbeat.ObservedAt >= part.JoinedAt)
        {
            var vouched = part with { State = LeaseNodeState.Running, AccruesFrom = heartbeat.ObservedAt, Checkpoint = heartbeat.ObservedAt };
            meters[part.NodeId] = LeaseMeter.Start(vouched.Terms!);
            publishedGpuMilliseconds[part.NodeId] = 0;
            await SaveAsync(record!.WithParts(record.NodeParts.Select(p => p == part ? vouched : p).ToList()));
            await outbox.PublishAsync(new LeaseNodeJoined(LeaseId, record.TenantId, new LeaseNode(part.NodeId, part.Rack, part.GpuIndices), heartbeat.ObservedAt));
        }
    }

    /// <summary>
    /// Stops accrual on every node at <paramref name="at"/> (never before what heartbeats already
    /// vouched for), frees the nodes, and records why; <paramref name="failedNodeId"/>'s part is marked failed.
    /// </summary>
    private async Task FinishAsync(LeaseState state, DateTimeOffset at, string? failedNodeId = null)
    {
        var end = MeteringRules.ToMillisecond(at);
        var active = record!.NodeParts.Where(p => p.Active).ToList();
        var parts = record.NodeParts.Select(p => p.Active
            ? EndPart(p, TimeMath.Max(end, p.JoinedAt), p.NodeId == failedNodeId ? LeaseNodeState.Failed : LeaseNodeState.Released)
            : p).ToList();
        var endedAt = parts.Where(p => active.Any(a => a.NodeId == p.NodeId)).Select(p => p.LeftAt!.Value).DefaultIfEmpty(end).Max();
        await SaveAsync((record with { State = state, EndedAt = endedAt }).WithParts(parts));

        // The last windows leave first, so the broker holds the lease's usage before its end.
        await PublishAsync();
        await outbox.PublishAsync(new LeaseEnded(LeaseId, record.TenantId, state.ToString(), endedAt));
        await Task.WhenAll(active.Select(p => GrainFactory.GetGrain<INodeGrain>(p.NodeId).Release(LeaseId)));
    }

    /// <summary>Ends the running parts at <paramref name="at"/>: a spot lease's notice.</summary>
    private List<LeasePart> EndParts(IReadOnlyList<LeasePart> parts, DateTimeOffset at) =>
        parts.Select(p => p.State == LeaseNodeState.Running ? EndPart(p, TimeMath.Max(at, p.JoinedAt), LeaseNodeState.Running) : p).ToList();

    private LeasePart EndPart(LeasePart part, DateTimeOffset at, LeaseNodeState state)
    {
        if (!meters.TryGetValue(part.NodeId, out var meter))
        {
            // Never vouched for: nothing accrued, and nothing will.
            return part with { State = state, LeftAt = at, Settled = true };
        }

        var (ended, closed) = meter.End(at);
        meters[part.NodeId] = ended;
        Queue(part.NodeId, closed);
        return part with { State = state, LeftAt = ended.Terms.End!.Value };
    }

    private async Task CatchUpAsync(string nodeId, CancellationToken cancellationToken)
    {
        var samples = await heartbeats.ReadFromAsync(nodeId, meters[nodeId].AccruedThrough, cancellationToken);
        for (var i = 1; i < samples.Count; i++)
        {
            Apply(nodeId, samples[i - 1], samples[i]);
        }
    }

    private void Apply(string nodeId, HeartbeatSample from, HeartbeatSample to)
    {
        var (next, closed) = meters[nodeId].Accrue(from, to, timeout);
        meters[nodeId] = next;
        Queue(nodeId, closed);
    }

    private void Queue(string nodeId, IReadOnlyList<WindowUsage> closed)
    {
        var now = Now;
        var lease = record!;
        unpublished.AddRange(closed.Where(w => !w.IsEmpty).Select(w => new UsageRecorded(
            DeterministicGuid.Create(lease.IsCluster ? $"usage:{LeaseId:N}:{nodeId}:{w.WindowStart:O}" : $"usage:{LeaseId:N}:{w.WindowStart:O}"),
            LeaseId, lease.TenantId, nodeId, lease.Sku, lease.Pricing, w.WindowStart, w.GpuSeconds, now, w.UnbilledGpuSeconds)));
    }

    private Task PublishStartedAsync(LeaseRecord lease) =>
        outbox.PublishAsync(new LeaseStarted(LeaseId, lease.TenantId, lease.NodeId, lease.Sku, lease.Pricing, lease.GpuIndices, lease.StartedAt,
            lease.IsCluster ? lease.NodeParts.Select(p => new LeaseNode(p.NodeId, p.Rack, p.GpuIndices)).ToList() : null));

    /// <summary>Hands closed windows to the bus; on failure they stay queued and go with the next interval.</summary>
    private async Task PublishAsync()
    {
        if (unpublished.Count > 0)
        {
            try
            {
                await outbox.PublishUsageAsync([.. unpublished]);
                foreach (var usage in unpublished)
                {
                    publishedGpuMilliseconds[usage.NodeId] = publishedGpuMilliseconds.GetValueOrDefault(usage.NodeId) + (long)(usage.GpuSeconds * 1000);
                }

                unpublished.Clear();
            }
            catch (Exception ex)
            {
                LogPublishDeferred(logger, ex, LeaseId, unpublished.Count);
                return;
            }
        }

        var due = false;
        var parts = record!.NodeParts.Select(part =>
        {
            if (part.Settled || !meters.TryGetValue(part.NodeId, out var meter))
            {
                return part;
            }

            var moved = part with
            {
                Checkpoint = meter.Checkpoint,
                ClosedGpuMilliseconds = publishedGpuMilliseconds.GetValueOrDefault(part.NodeId),
                Settled = meter.IsSettled,
            };
            due |= moved.Settled || meter.Checkpoint - (part.Checkpoint ?? part.JoinedAt) >= options.Value.CheckpointEvery;
            return moved;
        }).ToList();
        if (due)
        {
            await SaveAsync(record.WithParts(parts));
            foreach (var settled in parts.Where(p => p.Settled))
            {
                meters.Remove(settled.NodeId);
            }
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
        var nodes = lease.NodeParts.Select(p => new LeaseNodeView(
            p.NodeId, p.Rack, p.GpuIndices, p.State, p.JoinedAt, p.AccruesFrom, p.LeftAt, MeteredGpuMilliseconds(p) / 1000m)).ToList();
        return new LeaseView(lease.Id, lease.TenantId, lease.NodeId, lease.Sku, lease.Pricing, lease.GpuIndices, lease.State,
            lease.StartedAt, lease.EndedAt, nodes.Sum(n => n.GpuSeconds), lease.Settled, lease.PreemptAt,
            Fabric: lease.Fabric, GpuCount: lease.GpuIndices.Count * lease.NodeCount, OnNodeFailure: lease.OnNodeFailure, Degraded: lease.Degraded, Nodes: nodes);
    }

    private long MeteredGpuMilliseconds(LeasePart part) =>
        part.Settled || !meters.TryGetValue(part.NodeId, out var meter)
            ? part.ClosedGpuMilliseconds
            : publishedGpuMilliseconds.GetValueOrDefault(part.NodeId)
              + unpublished.Where(u => u.NodeId == part.NodeId).Sum(u => (long)(u.GpuSeconds * 1000)) + meter.OpenGpuMilliseconds;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lease {LeaseId}: {Count} usage windows not yet published; retrying with the next heartbeat.")]
    private static partial void LogPublishDeferred(ILogger logger, Exception exception, Guid leaseId, int count);
}
