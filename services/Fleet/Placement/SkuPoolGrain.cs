using Billing.Contracts;
using Billing.Fleet.Nodes;
using Marten;

namespace Billing.Fleet.Placement;

/// <summary>
/// Best fit: the reachable node with the fewest free GPUs that still fit the request, ties by node
/// id. Free counts are a cache; the node grain has the last word, so two placements can never take
/// the same GPU.
/// </summary>
public sealed class SkuPoolGrain(IDocumentStore store) : Grain, ISkuPoolGrain
{
    private readonly SortedDictionary<string, int> free = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var sku = this.GetPrimaryKeyString();
        await using var session = store.QuerySession();
        var nodes = await session.Query<NodeRegistration>().Where(n => n.Sku == sku).ToListAsync(cancellationToken);
        foreach (var node in nodes)
        {
            free[node.Id] = node.GpuCount;
        }
    }

    public Task AddNode(string nodeId, int gpuCount)
    {
        free.TryAdd(nodeId, gpuCount);
        return Task.CompletedTask;
    }

    public async Task<Placement> Place(Guid leaseId, int gpuCount, PricingModel pricing)
    {
        if (await TryPlaceAsync(leaseId, gpuCount, pricing) is { } placed)
        {
            return new Placement(placed, free.Values.Sum());
        }

        // The cache may be stale (leases ended, nodes came back): refresh it and try once more.
        await RefreshAsync();
        var retried = await TryPlaceAsync(leaseId, gpuCount, pricing);
        if (retried is null && pricing != PricingModel.Spot)
        {
            retried = await TryPreemptAsync(leaseId, gpuCount, pricing);
        }

        return new Placement(retried, free.Values.Sum());
    }

    public async Task<PoolCapacity> Capacity()
    {
        var views = (await RefreshAsync()).ToList();
        return new PoolCapacity(
            views.Where(v => v.Health.TakesLeases() && !v.Drained).Sum(v => v.GpuCount),
            views.Sum(v => v.GpusLeased));
    }

    private async Task<IEnumerable<NodeView>> RefreshAsync()
    {
        var views = (await Task.WhenAll(free.Keys.ToList().Select(id => GrainFactory.GetGrain<INodeGrain>(id).Get()))).OfType<NodeView>().ToList();
        foreach (var view in views)
        {
            free[view.NodeId] = view.Health.TakesLeases() && !view.Drained ? view.GpusFree : 0;
        }

        return views;
    }

    private async Task<Allocation?> TryPreemptAsync(Guid leaseId, int gpuCount, PricingModel pricing)
    {
        foreach (var nodeId in free.OrderByDescending(n => n.Value).Select(n => n.Key).ToList())
        {
            if (await GrainFactory.GetGrain<INodeGrain>(nodeId).TryPreempt(leaseId, gpuCount, pricing) is { } allocation)
            {
                free[nodeId] = allocation.FreeAfter;
                return allocation;
            }
        }

        return null;
    }

    private async Task<Allocation?> TryPlaceAsync(Guid leaseId, int gpuCount, PricingModel pricing)
    {
        var candidates = free.Where(n => n.Value >= gpuCount).OrderBy(n => n.Value).Select(n => n.Key).ToList();
        foreach (var nodeId in candidates)
        {
            var allocation = await GrainFactory.GetGrain<INodeGrain>(nodeId).TryAllocate(leaseId, gpuCount, pricing);
            if (allocation is not null)
            {
                free[nodeId] = allocation.FreeAfter;
                return allocation;
            }

            free[nodeId] = 0;
        }

        return null;
    }
}
