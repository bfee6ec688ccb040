using Microsoft.Extensions.Configuration;

namespace Billing.Ledger.Partitions;

/// <summary>
/// This ledger process among <see cref="Instances"/>: partition p is its own when p % Instances ==
/// <see cref="Instance"/>. It consumes its own partitions from the start and the others after
/// <see cref="StandbyAfter"/>, as a standby: each partition queue has a single active consumer, the
/// first to register, and RabbitMQ hands it to a standby when that consumer's process dies. One process
/// (the defaults) owns every partition.
/// </summary>
public sealed record LedgerInstance(int Instance, int Instances, TimeSpan StandbyAfter)
{
    public static LedgerInstance From(IConfiguration configuration)
    {
        var instance = new LedgerInstance(
            configuration.GetValue("Billing:Ledger:Instance", 0),
            configuration.GetValue("Billing:Ledger:Instances", 1),
            configuration.GetValue("Billing:Ledger:StandbyAfter", TimeSpan.FromSeconds(5)));
        return instance.Instances >= 1 && instance.Instance >= 0 && instance.Instance < instance.Instances
            ? instance
            : throw new InvalidOperationException($"Billing:Ledger:Instance must be from 0 to Billing:Ledger:Instances - 1 (got {instance.Instance} of {instance.Instances}).");
    }

    public bool Owns(int partition) => partition % Instances == Instance;
}
