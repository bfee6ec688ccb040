using Billing.Contracts.Fleet;

namespace Billing.Fleet.Messaging;

/// <summary>
/// How the fleet tells the rest of the platform what happened. Every call completes only once the
/// broker has confirmed the message, so a grain never moves past a fact it failed to hand over.
/// </summary>
public interface IFleetOutbox
{
    /// <summary>Hands over closed windows of one tenant's lease (they go to that tenant's ledger partition).</summary>
    Task PublishUsageAsync(IReadOnlyList<UsageRecorded> usage, CancellationToken cancellationToken = default);

    Task PublishAsync<T>(T message, CancellationToken cancellationToken = default)
        where T : class;
}
