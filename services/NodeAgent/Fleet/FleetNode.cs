namespace Billing.NodeAgent.Fleet;

/// <summary>A registered node, the key it posts heartbeats with, and where it sits.</summary>
public sealed record FleetNode(string NodeId, string AgentKey, int GpuCount, string? Fabric = null, string? Rack = null);
