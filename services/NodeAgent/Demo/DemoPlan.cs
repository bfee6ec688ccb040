using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Demo;

/// <summary>Which leases each tenant asks for: a mix of sizes and pricing models, the same on every run.</summary>
public static class DemoPlan
{
    private static readonly int[] Sizes = [1, 2, 4, 8];
    private static readonly PricingModel[] Models = [PricingModel.OnDemand, PricingModel.Spot, PricingModel.Reserved];

    public static IReadOnlyList<RequestLease> ForTenant(int tenant, int leases, string sku, int gpusPerNode)
    {
        var sizes = Sizes.Where(s => s <= gpusPerNode).DefaultIfEmpty(gpusPerNode).ToArray();
        return Enumerable.Range(0, leases)
            .Select(j => new RequestLease(sku, sizes[(tenant + j) % sizes.Length], Models[(tenant + j) % Models.Length]))
            .ToArray();
    }
}
