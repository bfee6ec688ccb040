namespace Billing.NodeAgent.Fleet;

/// <summary>A registered node and the key it posts heartbeats with.</summary>
public sealed record FleetNode(string NodeId, string AgentKey, int GpuCount);
