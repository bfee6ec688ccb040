namespace Billing.Contracts.Fleet;

/// <summary>
/// A node that joined a multi-node lease (see <see cref="LeaseNodeReplaced"/>) was vouched for by its
/// first heartbeat after joining: its GPUs accrue from <see cref="AccruesFrom"/>.
/// </summary>
public sealed record LeaseNodeJoined(Guid LeaseId, string TenantId, LeaseNode Node, DateTimeOffset AccruesFrom) : ILeaseFact;
