using System.Globalization;
using System.IO.Hashing;
using Billing.Contracts.Fleet;
using MassTransit;
using Microsoft.Extensions.Configuration;

namespace Billing.ServiceDefaults;

/// <summary>
/// The ledger's partitions: every fact about a lease (its usage and its lifecycle) carries the
/// lease's partition as its RabbitMQ routing key, so all of them reach one partition queue, in the
/// order they were published. The message types' own exchanges stay fanout (any other subscriber
/// still gets everything); the ledger binds them to one direct exchange that routes by that key.
/// Publisher and ledger must agree on the count (<c>Billing:Ledger:Partitions</c>), so it is read here.
/// </summary>
public sealed class LedgerPartitions
{
    public const string Section = "Billing:Ledger:Partitions";

    public const int DefaultCount = 8;

    /// <summary>The direct exchange between the message types' exchanges and the partition queues.</summary>
    public const string Exchange = "billing-ledger";

    /// <summary>The message types whose routing key is their lease's partition.</summary>
    public static readonly IReadOnlyList<Type> MessageTypes =
        [typeof(UsageRecordedBatch), typeof(LeasePending), typeof(LeaseStarted), typeof(LeasePreemptionScheduled), typeof(LeaseEnded)];

    public LedgerPartitions(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Count = count;
    }

    public int Count { get; }

    public static LedgerPartitions From(IConfiguration configuration) => new(configuration.GetValue(Section, DefaultCount));

    /// <summary>A stable hash of the lease id (the same in every process and version), modulo the count.</summary>
    public int Of(Guid leaseId)
    {
        Span<byte> bytes = stackalloc byte[16];
        leaseId.TryWriteBytes(bytes);
        return (int)(XxHash3.HashToUInt64(bytes) % (ulong)Count);
    }

    public static string RoutingKey(int partition) => partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Every message about a lease gets its partition as routing key, whoever publishes or sends it.
    /// A usage batch is routed by its first record: the fleet's outbox publishes one batch per
    /// partition; a batch mixing partitions (a hand-made one) is still stored exactly once.
    /// </summary>
    public void ConfigureRouting(IBusFactoryConfigurator bus)
    {
        bus.Send<UsageRecordedBatch>(s => s.UseRoutingKeyFormatter(c => Key(c.Message.Records.Count > 0 ? c.Message.Records[0].LeaseId : Guid.Empty)));
        bus.Send<LeasePending>(s => s.UseRoutingKeyFormatter(c => Key(c.Message.LeaseId)));
        bus.Send<LeaseStarted>(s => s.UseRoutingKeyFormatter(c => Key(c.Message.LeaseId)));
        bus.Send<LeasePreemptionScheduled>(s => s.UseRoutingKeyFormatter(c => Key(c.Message.LeaseId)));
        bus.Send<LeaseEnded>(s => s.UseRoutingKeyFormatter(c => Key(c.Message.LeaseId)));
    }

    private string Key(Guid leaseId) => RoutingKey(Of(leaseId));
}
