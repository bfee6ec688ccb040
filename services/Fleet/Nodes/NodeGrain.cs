using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Billing.Contracts.Fleet;
using Billing.Fleet.Heartbeats;
using Billing.Fleet.Leases;
using Billing.Fleet.Messaging;
using Billing.Fleet.Metering;
using Marten;
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
    IOptions<MeteringOptions> options) : Grain, INodeGrain
{
    private readonly MeteringOptions metering = options.Value;
    private readonly Dictionary<Guid, ulong> allocated = [];
    private readonly HashSet<Guid> metered = [];
    private NodeRegistration? registration;
    private HeartbeatSample? last;
    private string health = NodeHealth.Unknown;

    private string NodeId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        registration = await session.LoadAsync<NodeRegistration>(NodeId, cancellationToken);
        if (registration is null)
        {
            return;
        }

        var leases = await session.Query<LeaseRecord>().Where(l => l.NodeId == NodeId && !l.Settled).ToListAsync(cancellationToken);
        foreach (var lease in leases)
        {
            metered.Add(lease.Id);
            if (lease.State == LeaseStates.Running)
            {
                allocated[lease.Id] = lease.Terms.GpuMask;
            }
        }

        last = await heartbeats.LastAsync(NodeId, cancellationToken);
        health = NodeHealth.Of(last, registration.GpuCount, time.GetUtcNow(), metering.HeartbeatTimeout);
    }

    public async Task<NodeView> Register(NodeSpec spec)
    {
        if (registration is null)
        {
            var registered = new NodeRegistration(NodeId, spec.Sku, spec.GpuCount, spec.Region, time.GetUtcNow());
            await using var session = store.LightweightSession();
            session.Insert(registered);
            await session.SaveChangesAsync();
            registration = registered;
        }

        return View(registration);
    }

    public Task<NodeView?> Get() => Task.FromResult(registration is null ? null : View(registration));

    public async Task<HeartbeatAdmission> RecordHeartbeat(HeartbeatSample sample, ulong reportedMask)
    {
        if (registration is null)
        {
            return HeartbeatAdmission.UnknownNode;
        }

        if ((reportedMask & ~NodeHealth.AllGpus(registration.GpuCount)) != 0)
        {
            return HeartbeatAdmission.UnknownGpu;
        }

        var admission = HeartbeatOrder.Admit(last?.ObservedAt, sample.ObservedAt, time.GetUtcNow(), metering);
        if (admission != HeartbeatAdmission.Accepted)
        {
            return admission;
        }

        await heartbeats.AppendAsync(NodeId, sample);
        var previous = last;
        last = sample;
        await ReportHealthAsync(sample);
        if (previous is { } from && metered.Count > 0)
        {
            var leases = metered.ToList();
            var settled = await Task.WhenAll(leases.Select(id => GrainFactory.GetGrain<ILeaseGrain>(id).Accrue(from, sample)));
            for (var i = 0; i < leases.Count; i++)
            {
                if (settled[i])
                {
                    metered.Remove(leases[i]);
                }
            }
        }

        return admission;
    }

    public Task<Allocation?> TryAllocate(Guid leaseId, int gpuCount)
    {
        if (registration is null || registration.Drained || last is not { } heartbeat ||
            time.GetUtcNow() - heartbeat.ObservedAt > metering.HeartbeatTimeout)
        {
            return Task.FromResult<Allocation?>(null);
        }

        var free = FreeMask(heartbeat);
        if (NodeHealth.Count(free) < gpuCount)
        {
            return Task.FromResult<Allocation?>(null);
        }

        var indices = Enumerable.Range(0, registration.GpuCount).Where(i => (free & (1UL << i)) != 0).Take(gpuCount).ToList();
        allocated[leaseId] = indices.Aggregate(0UL, (mask, i) => mask | (1UL << i));
        metered.Add(leaseId);
        return Task.FromResult<Allocation?>(new Allocation(NodeId, indices, NodeHealth.Count(FreeMask(heartbeat))));
    }

    public Task Release(Guid leaseId)
    {
        allocated.Remove(leaseId);
        return Task.CompletedTask;
    }

    private ulong AllocatedMask => allocated.Values.Aggregate(0UL, (all, mask) => all | mask);

    private ulong FreeMask(HeartbeatSample heartbeat) => heartbeat.HealthyMask & NodeHealth.AllGpus(registration!.GpuCount) & ~AllocatedMask;

    private async Task ReportHealthAsync(HeartbeatSample sample)
    {
        var now = NodeHealth.Of(sample, registration!.GpuCount, time.GetUtcNow(), metering.HeartbeatTimeout);
        if (now != health)
        {
            health = now;
            await outbox.PublishAsync(new NodeHealthChanged(NodeId, registration.Sku, now, sample.HealthyCount, registration.GpuCount, sample.ObservedAt));
        }
    }

    private NodeView View(NodeRegistration node)
    {
        var all = NodeHealth.AllGpus(node.GpuCount);
        var healthy = last?.HealthyMask ?? 0;
        var leased = AllocatedMask & all;
        return new NodeView(node.Id, node.Sku, node.GpuCount, node.Region,
            NodeHealth.Of(last, node.GpuCount, time.GetUtcNow(), metering.HeartbeatTimeout), last?.ObservedAt,
            NodeHealth.Count(healthy & all & ~leased), NodeHealth.Count(leased), NodeHealth.Count(all & ~healthy), node.Drained);
    }
}
