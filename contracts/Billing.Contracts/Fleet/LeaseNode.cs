namespace Billing.Contracts.Fleet;

/// <summary>One node's part of a lease: the node, its rack if known, and the GPUs leased on it.</summary>
public sealed record LeaseNode(string NodeId, string? Rack, IReadOnlyList<int> GpuIndices);
