namespace Billing.Contracts.Fleet;

/// <summary>A node's health as seen from its heartbeats: Healthy, Degraded (some GPUs failed) or Unreachable.</summary>
public sealed record NodeHealthChanged(string NodeId, string Sku, string Health, int HealthyGpus, int GpuCount, DateTimeOffset At);
