using Billing.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Billing.Ledger.Partitions;

/// <summary>
/// One receive endpoint per partition queue, each with one <see cref="LedgerEntryConsumer"/>: the
/// partitions run their transactions side by side, each partition's one at a time. Own partitions are
/// declared with the bus (so readiness waits for them); the others are connected later, as a standby.
/// </summary>
public static class LedgerPartitionEndpoints
{
    public static void ConfigureOwn(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator rabbit)
    {
        var queues = context.GetRequiredService<LedgerQueues>();
        var instance = context.GetRequiredService<LedgerInstance>();
        foreach (var partition in Enumerable.Range(0, queues.Partitions).Where(instance.Owns))
        {
            rabbit.ReceiveEndpoint(queues.QueueName(partition), endpoint => Configure(endpoint, context));
        }
    }

    public static void Configure(IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        // Entries are sent to their partition, never published: binding the message types' exchanges would copy every published one to each partition.
        endpoint.ConfigureConsumeTopology = false;
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SingleActiveConsumer = true;
        }

        endpoint.ConfigureConsumer<LedgerEntryConsumer>(context);
    }
}

/// <summary>Connects the partitions this process does not own once <see cref="LedgerInstance.StandbyAfter"/> has passed, so their owners register first.</summary>
public sealed partial class LedgerStandbyPartitions(IReceiveEndpointConnector connector, LedgerQueues queues, LedgerInstance instance, ILogger<LedgerStandbyPartitions> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var standby = Enumerable.Range(0, queues.Partitions).Where(p => !instance.Owns(p)).ToList();
        if (standby.Count == 0)
        {
            return;
        }

        await Task.Delay(instance.StandbyAfter, stoppingToken);
        foreach (var partition in standby)
        {
            var handle = connector.ConnectReceiveEndpoint(queues.QueueName(partition), (context, endpoint) => LedgerPartitionEndpoints.Configure(endpoint, context));
            await handle.Ready.WaitAsync(stoppingToken);
        }

        LogStandingBy(logger, string.Join(", ", standby));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Standing by for ledger partitions {Partitions}.")]
    private static partial void LogStandingBy(ILogger logger, string partitions);
}
