namespace Billing.Fleet.Nodes;

/// <summary>A registered node (Marten document): what it is, and which leases it still meters.</summary>
public sealed record NodeRegistration(string Id, string Sku, int GpuCount, string Region, DateTimeOffset RegisteredAt, bool Drained = false);
