using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Leases;
using Billing.Fleet.Messaging;
using Billing.Fleet.Metering;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Nodes;

/// <summary>
/// One GPU node: admits its heartbeats in order, stores each durably before acknowledging it, and
/// hands every interval to the leases it meters. Which GPUs are allocated is rebuilt from the lease
/// documents, and the last heartbeat from the log, so the grain holds nothing that is not durable.
/// </summary>
public sealed class NodeGrain(
    IDocumentStore store,
    IHeartbeatLog heartbeats,
    IFleetOutbox outbox,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time,
    IOptions<MeteringOptions> meteringOptions,
    IOptions<LeaseOptions> leaseOptions,
    FleetMetrics metrics) : Grain, INodeGrain, IIncomingGrainCallFilter
{
    private readonly MeteringOptions metering = meteringOptions.Value;
    private readonly LeaseOptions leases = leaseOptions.Value;
    private readonly Dictionary<Guid, NodeAllocation> allocated = [];
    private readonly HashSet<Guid> metered = [];
    private readonly Dictionary<int, DateTimeOffset> failedSince = [];
    private NodeRegistration? registration;
    private HeartbeatSample? last;
    private NodeState health = NodeState.Unknown;
    private string? nodeId;

    /// <summary>The key, decoded once: Orleans builds a new string from the grain id on every call.</summary>
    private string NodeId => nodeId ??= this.GetPrimaryKeyString();

    private DateTimeOffset Now => time.GetUtcNow();

    private bool Reachable => last is { } heartbeat && Now - heartbeat.ObservedAt <= metering.HeartbeatTimeout;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        registration = await session.LoadAsync<NodeRegistration>(NodeId, cancellationToken);
        if (registration is null)
        {
            return;
        }

        var nodeId = NodeId;
        var records = await session.Query<LeaseRecord>()
            .Where(l => (l.NodeId == nodeId || l.NodeIds!.Contains(nodeId)) && !l.Settled).ToListAsync(cancellationToken);
        foreach (var lease in records)
        {
            if (lease.NodeParts.LastOrDefault(p => p.NodeId == nodeId) is not { Settled: false } part)
            {
                continue;
            }

            metered.Add(lease.Id);
            if (lease.State.Holds() && part.Active)
            {
                allocated[lease.Id] = new NodeAllocation(part.GpuMask, lease.Pricing,
                    lease.State == LeaseState.Pending ? lease.StartedAt : null, lease.PreemptAt);
            }
        }

        last = await heartbeats.LastAsync(NodeId, cancellationToken);
        health = NodeHealth.Of(last, registration.GpuCount, Now, metering.HeartbeatTimeout);
    }

    /// <summary>After every call, this node's GPUs for the fleet's gauges (counted without building a view: this runs per heartbeat).</summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        await context.Invoke();
        if (registration is not null)
        {
            var (free, leased, unhealthy) = Gpus(registration);
            metrics.Node(NodeId, registration.Sku, free, leased, unhealthy);
        }
    }

    public async Task<NodeView?> Register(NodeSpec spec)
    {
        if (registration is not null)
        {
            return null;
        }

        await SaveAsync(new NodeRegistration(NodeId, spec.Sku, spec.GpuCount, spec.Region, Now, Fabric: spec.Fabric ?? spec.Region, Rack: spec.Rack));
        return View(registration!);
    }

    public Task<NodeView?> Get() => Task.FromResult(registration is null ? null : View(registration));

    public async Task<NodeView?> Drain()
    {
        if (registration is { Drained: false } node)
        {
            await SaveAsync(node with { Drained = true });
        }

        return registration is null ? null : View(registration);
    }

    public async Task<HeartbeatAdmission> RecordHeartbeat(HeartbeatSample sample, ulong reportedMask, Telemetry.GpuReadings? readings = null)
    {
        if (registration is null)
        {
            return HeartbeatAdmission.UnknownNode;
        }

        if ((reportedMask & ~NodeHealth.AllGpus(registration.GpuCount)) != 0)
        {
            return HeartbeatAdmission.UnknownGpu;
        }

        var admission = HeartbeatOrder.Admit(last?.ObservedAt, sample.ObservedAt, Now, metering);
        if (admission != HeartbeatAdmission.Accepted)
        {
            return admission;
        }

        await heartbeats.AppendAsync(NodeId, sample, readings);
        var previous = last;
        last = sample;
        TrackFailures(sample);
        await ReportHealthAsync(sample);
        if (previous is { } from && metered.Count > 0)
        {
            var leaseIds = metered.ToList();
            var settled = await Task.WhenAll(leaseIds.Select(id => Lease(id).Accrue(NodeId, from, sample)));
            for (var i = 0; i < leaseIds.Count; i++)
            {
                if (settled[i])
                {
                    metered.Remove(leaseIds[i]);
                }
            }
        }

        await Tick();
        return admission;
    }

    public Task<Allocation?> TryAllocate(Guid leaseId, int gpuCount, PricingModel pricing)
    {
        if (!Accepting(out var heartbeat) || NodeHealth.Count(FreeMask(heartbeat)) < gpuCount)
        {
            return Task.FromResult<Allocation?>(null);
        }

        return Task.FromResult<Allocation?>(Allocate(leaseId, pricing, FreeMask(heartbeat), gpuCount, startsAt: null, heartbeat));
    }

    public async Task<Allocation?> TryPreempt(Guid leaseId, int gpuCount, PricingModel pricing)
    {
        if (!Accepting(out var heartbeat))
        {
            return null;
        }

        var preemptable = allocated.Where(a => a.Value.Preemptable).Select(a => new PreemptableLease(a.Key, a.Value.Mask));
        if (NodeVictims.Choose(FreeMask(heartbeat), heartbeat.HealthyMask, preemptable, gpuCount) is not { } victims)
        {
            return null;
        }

        var usable = victims.Aggregate(FreeMask(heartbeat), (mask, victim) => mask | (allocated[victim].Mask & heartbeat.HealthyMask));
        var preemptAt = MeteringRules.ToMillisecond(Now + leases.PreemptionNotice);
        foreach (var victim in victims)
        {
            if (allocated.TryGetValue(victim, out var allocation))
            {
                allocated[victim] = allocation with { PreemptAt = preemptAt };
                await Lease(victim).SchedulePreemption(preemptAt);
            }
        }

        return Allocate(leaseId, pricing, usable, gpuCount, victims.Count > 0 ? preemptAt : null, heartbeat);
    }

    public Task<Placement.NodeHolding?> Holding() => Task.FromResult(registration is null ? null : new Placement.NodeHolding(
        NodeId, registration.FabricOrRegion, registration.Rack, registration.GpuCount,
        Accepting(out var heartbeat) && (heartbeat.HealthyMask & NodeHealth.AllGpus(registration.GpuCount)) == NodeHealth.AllGpus(registration.GpuCount),
        allocated.Select(a => new Placement.LeaseOnNode(a.Key, NodeHealth.Count(a.Value.Mask), a.Value.Preemptable)).ToList()));

    public Task<Allocation?> TryTakeWhole(Guid leaseId, PricingModel pricing, IReadOnlyList<Guid> victims, DateTimeOffset startsAt)
    {
        var all = registration is null ? 0 : NodeHealth.AllGpus(registration.GpuCount);
        if (!Accepting(out var heartbeat) || (heartbeat.HealthyMask & all) != all
            || allocated.Any(a => !a.Value.Preemptable || !victims.Contains(a.Key)))
        {
            return Task.FromResult<Allocation?>(null);
        }

        return Task.FromResult<Allocation?>(Allocate(leaseId, pricing, all, registration!.GpuCount, startsAt, heartbeat));
    }

    public Task Preempting(Guid leaseId, DateTimeOffset preemptAt)
    {
        if (allocated.TryGetValue(leaseId, out var allocation))
        {
            allocated[leaseId] = allocation with { PreemptAt = preemptAt };
        }

        return Task.CompletedTask;
    }

    public Task Release(Guid leaseId)
    {
        allocated.Remove(leaseId);
        return Task.CompletedTask;
    }

    public async Task Tick()
    {
        var now = Now;
        if (AnyDue(now))
        {
            foreach (var (id, allocation) in allocated.ToList())
            {
                if (!allocated.ContainsKey(id))
                {
                    continue;
                }

                if (allocation.PreemptAt <= now)
                {
                    allocated.Remove(id);
                    await Lease(id).CompletePreemption();
                }
                else if (allocation.StartsAt <= now)
                {
                    allocated[id] = allocation with { StartsAt = null };
                    await Lease(id).Activate();
                }
            }
        }

        if (last is { } seen)
        {
            // A silent node posts nothing, so only the clock can tell that it became unreachable.
            await ReportHealthAsync(seen);
        }

        if (last is { } heartbeat && now - heartbeat.ObservedAt > metering.HeartbeatTimeout + leases.UnreachableGrace)
        {
            await FailLeasesAsync(allocated.Keys.ToList(), heartbeat.ObservedAt);
            return;
        }

        if (failedSince.Count == 0)
        {
            return;
        }

        var failedTooLong = failedSince.Where(f => now - f.Value > leases.FailedGpuGrace).Aggregate(0UL, (mask, f) => mask | (1UL << f.Key));
        await FailLeasesAsync(allocated.Where(a => a.Value.StartsAt is null && (a.Value.Mask & failedTooLong) != 0).Select(a => a.Key).ToList(), now);
    }

    /// <summary>Whether a preemption or a delayed start is due: Tick runs after every heartbeat, and usually none is.</summary>
    private bool AnyDue(DateTimeOffset now)
    {
        foreach (var allocation in allocated.Values)
        {
            if (allocation.PreemptAt <= now || allocation.StartsAt <= now)
            {
                return true;
            }
        }

        return false;
    }

    private async Task FailLeasesAsync(IReadOnlyList<Guid> leaseIds, DateTimeOffset at)
    {
        foreach (var id in leaseIds)
        {
            allocated.Remove(id);
            await Lease(id).NodeFailed(NodeId, at);
        }
    }

    private ILeaseGrain Lease(Guid id) => GrainFactory.Reference<ILeaseGrain>(id);

    private bool Accepting(out HeartbeatSample heartbeat)
    {
        heartbeat = last ?? default;
        return registration is { Drained: false } && Reachable;
    }

    private Allocation Allocate(Guid leaseId, PricingModel pricing, ulong usable, int gpuCount, DateTimeOffset? startsAt, HeartbeatSample heartbeat)
    {
        var indices = Enumerable.Range(0, registration!.GpuCount).Where(i => (usable & (1UL << i)) != 0).Take(gpuCount).ToList();
        allocated[leaseId] = new NodeAllocation(indices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), pricing, startsAt);
        metered.Add(leaseId);
        return new Allocation(NodeId, indices, NodeHealth.Count(FreeMask(heartbeat)), startsAt, registration.Rack);
    }

    private void TrackFailures(HeartbeatSample sample)
    {
        for (var i = 0; i < registration!.GpuCount; i++)
        {
            if ((sample.HealthyMask & (1UL << i)) != 0)
            {
                failedSince.Remove(i);
            }
            else
            {
                failedSince.TryAdd(i, sample.ObservedAt);
            }
        }
    }

    private ulong AllocatedMask
    {
        get
        {
            var mask = 0UL;
            foreach (var allocation in allocated.Values)
            {
                mask |= allocation.Mask;
            }

            return mask;
        }
    }

    private ulong FreeMask(HeartbeatSample heartbeat) => heartbeat.HealthyMask & NodeHealth.AllGpus(registration!.GpuCount) & ~AllocatedMask;

    private async Task SaveAsync(NodeRegistration node)
    {
        await using var session = store.LightweightSession();
        session.Store(node);
        await session.SaveChangesAsync();
        registration = node;
    }

    private async Task ReportHealthAsync(HeartbeatSample sample)
    {
        var now = NodeHealth.Of(sample, registration!.GpuCount, Now, metering.HeartbeatTimeout);
        if (now != health)
        {
            health = now;
            var at = now == NodeState.Unreachable ? sample.ObservedAt + metering.HeartbeatTimeout : sample.ObservedAt;
            await outbox.PublishAsync(new NodeHealthChanged(NodeId, registration.Sku, now.ToString(), sample.HealthyCount, registration.GpuCount, at));
        }
    }

    private NodeView View(NodeRegistration node)
    {
        var (free, leased, unhealthy) = Gpus(node);
        return new NodeView(node.Id, node.Sku, node.GpuCount, node.Region,
            NodeHealth.Of(last, node.GpuCount, Now, metering.HeartbeatTimeout), last?.ObservedAt, free, leased, unhealthy, node.Drained, node.FabricOrRegion, node.Rack);
    }

    private (int Free, int Leased, int Unhealthy) Gpus(NodeRegistration node)
    {
        var all = NodeHealth.AllGpus(node.GpuCount);
        var healthy = last?.HealthyMask ?? 0;
        var leased = AllocatedMask & all;
        return (NodeHealth.Count(healthy & all & ~leased), NodeHealth.Count(leased), NodeHealth.Count(all & ~healthy));
    }
}
