using Billing.Contracts;
using Microsoft.Extensions.Configuration;

namespace Billing.ServiceDefaults.Messaging;

/// <summary>The ledger's partition queues, as configured: the same count and names in the fleet and the ledger.</summary>
public sealed class LedgerQueues(IConfiguration configuration)
{
    private readonly string prefix = configuration["Billing:QueuePrefix"] ?? "billing";

    public int Partitions { get; } = configuration.GetValue(LedgerPartitions.CountSetting, LedgerPartitions.DefaultCount);

    public string QueueName(int partition) => $"{prefix}-ledger-{partition}";

    public int PartitionOf(string tenantId) => LedgerPartitions.Of(tenantId, Partitions);
}
