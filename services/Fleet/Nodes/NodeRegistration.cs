namespace Billing.Fleet.Nodes;

/// <summary>
/// A registered node (Marten document): what it is, and where it sits. A registration from before
/// fabrics were recorded has none: its fabric is its region.
/// </summary>
public sealed record NodeRegistration(
    string Id, string Sku, int GpuCount, string Region, DateTimeOffset RegisteredAt, bool Drained = false, string? Fabric = null, string? Rack = null)
{
    public string FabricOrRegion => Fabric ?? Region;
}
