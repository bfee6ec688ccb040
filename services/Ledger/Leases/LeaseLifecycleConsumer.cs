using Microsoft.Extensions.DependencyInjection;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;
using Marten;
using MassTransit;

namespace Billing.Ledger.Leases;

/// <summary>A fact applied to the ledger once: its marker shares the transaction of the append.</summary>
public sealed record AppliedFact(Guid Id, DateTimeOffset AppliedAt);

/// <summary>Records lease lifecycle transitions, a cluster lease's nodes leaving and joining among them, in the lease's stream, each exactly once.</summary>
public sealed class LeaseLifecycleConsumer(IDocumentStore store, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    : IConsumer<LeasePending>, IConsumer<LeaseStarted>, IConsumer<LeasePreemptionScheduled>, IConsumer<LeaseEnded>,
        IConsumer<LeaseNodeLeft>, IConsumer<LeaseNodeReplaced>, IConsumer<LeaseNodeJoined>
{
    public Task Consume(ConsumeContext<LeasePending> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-pending:{context.Message.LeaseId:N}", context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<LeasePreemptionScheduled> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-preemption:{context.Message.LeaseId:N}", context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<LeaseStarted> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-started:{context.Message.LeaseId:N}", context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<LeaseEnded> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-ended:{context.Message.LeaseId:N}", context.Message, context.CancellationToken);

    /// <summary>A node leaves a lease at most once: a lease never takes back a node it has had.</summary>
    public Task Consume(ConsumeContext<LeaseNodeLeft> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-node-left:{context.Message.LeaseId:N}:{context.Message.NodeId}", context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<LeaseNodeReplaced> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-node-replaced:{context.Message.LeaseId:N}:{context.Message.Node.NodeId}", context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<LeaseNodeJoined> context) =>
        AppendOnceAsync(context.Message.LeaseId, $"lease-node-joined:{context.Message.LeaseId:N}:{context.Message.Node.NodeId}", context.Message, context.CancellationToken);

    private async Task AppendOnceAsync(Guid leaseId, string factName, object fact, CancellationToken cancellationToken)
    {
        // A session per attempt: a retry must not carry the failed attempt's pending append.
        await using var session = store.LightweightSession();
        var markerId = DeterministicGuid.Create(factName);
        if (await session.LoadAsync<AppliedFact>(markerId, cancellationToken) is not null)
        {
            return;
        }

        session.Events.Append(leaseId, fact);
        session.Insert(new AppliedFact(markerId, time.GetUtcNow()));
        await session.SaveChangesWithoutExceptionDataAsync(cancellationToken);
    }
}

public sealed class LeaseLifecycleConsumerDefinition : ConsumerDefinition<LeaseLifecycleConsumer>
{
    /// <summary>Transitions are few; one at a time keeps each lease stream in the order they were published.</summary>
    public LeaseLifecycleConsumerDefinition()
    {
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<LeaseLifecycleConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Intervals(50, 200, 1000, 5000, 15000));
    }
}
