using Billing.Contracts;
using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Placement;

/// <summary>
/// Owns placement for one SKU: it plans with <see cref="GangPlacement"/> over a cache of each node's
/// free GPUs, then takes the planned GPUs from the node grains, which have the last word. Placements
/// take turns in this one activation, so nodes are only ever taken by one plan at a time; a node
/// that refuses (it went unreachable, was drained, or the cache was stale) makes the plan give back
/// what it took and try again on fresh figures, and a call that fails midway gives back everything
/// it asked for. Nothing is allocated until every node of a gang has said yes, and spot leases get
/// their notice only after that.
/// </summary>
public sealed class SkuPoolGrain(
    IDocumentStore store,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time,
    IOptions<LeaseOptions> leaseOptions) : Grain, ISkuPoolGrain
{
    private const int Attempts = 3;
    private readonly Dictionary<string, PoolNode> nodes = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var sku = this.GetPrimaryKeyString();
        await using var session = store.QuerySession();
        var registered = await session.Query<NodeRegistration>().Where(n => n.Sku == sku).ToListAsync(cancellationToken);
        foreach (var node in registered)
        {
            nodes[node.Id] = new PoolNode(node.Id, node.FabricOrRegion, node.Rack, node.GpuCount, node.GpuCount);
        }
    }

    public Task AddNode(NodeView node)
    {
        nodes.TryAdd(node.NodeId, new PoolNode(node.NodeId, node.Fabric ?? node.Region, node.Rack, node.GpuCount, node.GpuCount));
        return Task.CompletedTask;
    }

    public async Task<Placement> Place(Guid leaseId, int gpuCount, PricingModel pricing, string? fabric = null)
    {
        var plan = GangPlacement.Plan(nodes.Values, gpuCount, fabric);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            if (plan.Placed && await TakeAsync(leaseId, plan, pricing) is { } taken)
            {
                return Placed(plan, taken);
            }

            // The cache may be stale (leases ended, nodes came back or went): refresh it and plan again.
            await RefreshAsync();
            plan = GangPlacement.Plan(nodes.Values, gpuCount, fabric);
            if (!plan.Placed)
            {
                break;
            }
        }

        var size = GangPlacement.NodeSize(nodes.Values);
        if (gpuCount <= size && pricing != PricingModel.Spot
            && await TryPreemptAsync(leaseId, gpuCount, pricing, fabric) is { } preempted)
        {
            return new Placement([preempted], FreeGpus, nodes[preempted.NodeId].Fabric, plan.LargestByFabric);
        }

        if (gpuCount > size && size > 0 && pricing != PricingModel.Spot
            && await TryPreemptGangAsync(leaseId, gpuCount / size, pricing, fabric) is { } gang)
        {
            return new Placement(gang.Allocations, FreeGpus, gang.Fabric, plan.LargestByFabric);
        }

        return new Placement([], FreeGpus, null, plan.LargestByFabric);
    }

    public async Task Replace(Guid leaseId)
    {
        var lease = GrainFactory.GetGrain<ILeaseGrain>(leaseId);
        var view = await lease.Get();
        var size = GangPlacement.NodeSize(nodes.Values);
        for (var attempt = 0; view is { Degraded: true, Nodes: { } had } && attempt < Attempts; attempt++)
        {
            var exclude = had.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
            var plan = GangPlacement.Plan(nodes.Values, size, view.Fabric, exclude);
            if (!plan.Placed)
            {
                await RefreshAsync();
                plan = GangPlacement.Plan(nodes.Values, size, view.Fabric, exclude);
            }

            if (!plan.Placed)
            {
                return;
            }

            if (await TakeAsync(leaseId, plan, view.Pricing) is [var allocation] && !await lease.Join(allocation))
            {
                await GrainFactory.GetGrain<INodeGrain>(allocation.NodeId).Release(leaseId);
            }

            view = await lease.Get();
        }
    }

    public async Task<PoolCapacity> Capacity()
    {
        var views = await RefreshAsync();
        return new PoolCapacity(
            views.Where(v => v.Health.TakesLeases() && !v.Drained).Sum(v => v.GpuCount),
            views.Sum(v => v.GpusLeased));
    }

    public async Task<IReadOnlyList<NodeView>> Nodes() => await RefreshAsync();

    private int FreeGpus => nodes.Values.Sum(n => n.Free);

    private Placement Placed(GangPlan plan, IReadOnlyList<Allocation> taken) => new(taken, FreeGpus, plan.Fabric, plan.LargestByFabric);

    /// <summary>
    /// Takes every planned node's GPUs, or none: a refusal gives back what the others gave, and so
    /// does a failed call (a node's silo died), before the failure goes on to the caller.
    /// </summary>
    private async Task<IReadOnlyList<Allocation>?> TakeAsync(Guid leaseId, GangPlan plan, PricingModel pricing)
    {
        Allocation?[] taken;
        try
        {
            taken = await Task.WhenAll(plan.Nodes.Select(n => GrainFactory.GetGrain<INodeGrain>(n.NodeId).TryAllocate(leaseId, n.GpuCount, pricing)));
        }
        catch
        {
            await ReleaseAsync(leaseId, plan.Nodes.Select(n => n.NodeId));
            throw;
        }

        for (var i = 0; i < taken.Length; i++)
        {
            var node = nodes[plan.Nodes[i].NodeId];
            nodes[node.NodeId] = node with { Free = taken[i]?.FreeAfter ?? 0 };
        }

        if (taken.All(a => a is not null))
        {
            return taken!;
        }

        await ReleaseAsync(leaseId, taken.OfType<Allocation>().Select(a => a.NodeId));
        return null;
    }

    /// <summary>Gives GPUs back; a node whose silo died lost its allocations with its activation.</summary>
    private Task ReleaseAsync(Guid leaseId, IEnumerable<string> nodeIds) =>
        Task.WhenAll(nodeIds.Select(nodeId => GrainFactory.GetGrain<INodeGrain>(nodeId).Release(leaseId)));

    private async Task<IReadOnlyList<NodeView>> RefreshAsync()
    {
        var views = (await Task.WhenAll(nodes.Keys.ToList().Select(id => GrainFactory.GetGrain<INodeGrain>(id).Get()))).OfType<NodeView>().ToList();
        foreach (var view in views)
        {
            nodes[view.NodeId] = nodes[view.NodeId] with { Free = view.Health.TakesLeases() && !view.Drained ? view.GpusFree : 0 };
        }

        return views;
    }

    /// <summary>
    /// Frees whole nodes of one fabric by preempting the spot leases <see cref="SpotVictims"/> picks:
    /// every planned node reserves itself for the lease first (or all give back), then the victims get
    /// notice, and the lease starts on every node when it runs out.
    /// </summary>
    private async Task<(IReadOnlyList<Allocation> Allocations, string Fabric)?> TryPreemptGangAsync(Guid leaseId, int wantedNodes, PricingModel pricing, string? fabric)
    {
        var candidates = nodes.Values.Where(n => fabric is null || n.Fabric == fabric).Select(n => GrainFactory.GetGrain<INodeGrain>(n.NodeId).Holding());
        var holdings = (await Task.WhenAll(candidates)).OfType<NodeHolding>().ToList();
        if (SpotVictims.Choose(holdings, wantedNodes, fabric) is not { } plan)
        {
            return null;
        }

        var startsAt = MeteringRules.ToMillisecond(time.GetUtcNow() + leaseOptions.Value.PreemptionNotice);
        Allocation?[] taken;
        try
        {
            taken = await Task.WhenAll(plan.Nodes.Select(n => GrainFactory.GetGrain<INodeGrain>(n.NodeId).TryTakeWhole(leaseId, pricing, plan.Victims, startsAt)));
        }
        catch
        {
            await ReleaseAsync(leaseId, plan.Nodes.Select(n => n.NodeId));
            throw;
        }

        if (taken.Any(a => a is null))
        {
            await ReleaseAsync(leaseId, taken.OfType<Allocation>().Select(a => a.NodeId));
            return null;
        }

        foreach (var allocation in taken)
        {
            nodes[allocation!.NodeId] = nodes[allocation.NodeId] with { Free = 0 };
        }

        await Task.WhenAll(plan.Victims.Select(v => GrainFactory.GetGrain<ILeaseGrain>(v).SchedulePreemption(startsAt)));
        return (taken!, plan.Fabric);
    }

    private async Task<Allocation?> TryPreemptAsync(Guid leaseId, int gpuCount, PricingModel pricing, string? fabric)
    {
        var candidates = nodes.Values.Where(n => fabric is null || n.Fabric == fabric).OrderByDescending(n => n.Free).ThenBy(n => n.NodeId, StringComparer.Ordinal).ToList();
        foreach (var node in candidates)
        {
            if (await GrainFactory.GetGrain<INodeGrain>(node.NodeId).TryPreempt(leaseId, gpuCount, pricing) is { } allocation)
            {
                nodes[node.NodeId] = node with { Free = allocation.FreeAfter };
                return allocation;
            }
        }

        return null;
    }
}
