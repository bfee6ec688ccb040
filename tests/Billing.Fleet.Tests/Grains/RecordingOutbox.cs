using System.Collections.Concurrent;
using Billing.Contracts.Fleet;
using Billing.Fleet.Messaging;

namespace Billing.Fleet.Tests.Grains;

/// <summary>Stands in for the broker at grain level: keeps what the grains published, in order.</summary>
public sealed class RecordingOutbox : IFleetOutbox
{
    public ConcurrentQueue<UsageRecorded> Usage { get; } = new();

    public ConcurrentQueue<object> Messages { get; } = new();

    /// <summary>Usage records and other messages together, in the order they were handed over.</summary>
    public ConcurrentQueue<object> InOrder { get; } = new();

    public Task PublishUsageAsync(IReadOnlyList<UsageRecorded> usage, CancellationToken cancellationToken = default)
    {
        foreach (var record in usage)
        {
            Usage.Enqueue(record);
            InOrder.Enqueue(record);
        }

        return Task.CompletedTask;
    }

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken = default)
        where T : class
    {
        Messages.Enqueue(message);
        InOrder.Enqueue(message);
        return Task.CompletedTask;
    }

    public IReadOnlyList<UsageRecorded> UsageOf(Guid leaseId) => Usage.Where(u => u.LeaseId == leaseId).ToList();
}
