using System.Net.Sockets;
using Billing.Contracts.Fleet;
using Billing.Ledger.Leases;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Billing.Ledger;

/// <summary>
/// One receive endpoint per ledger partition: a queue bound to the ledger's direct exchange by its
/// partition's routing key, with RabbitMQ's single active consumer, consumed one message at a time.
/// Partitions run side by side in a process and across processes, while each lease stream has one
/// writer and gets its facts in publication order; a standby consumer takes a partition over the
/// moment the active one's connection goes.
/// Every ledger process consumes every partition, its own share (<c>Billing:Ledger:Instance</c> of
/// <c>Billing:Ledger:Instances</c>: partition mod instances) from the start and the others
/// <see cref="StandbyAfter"/> later, so that ledgers started together each become the active consumer
/// of their share, and stand by for the rest.
/// </summary>
public sealed class LedgerPartitionEndpoints(LedgerPartitions partitions, IConfiguration configuration, IServiceProvider services) : BackgroundService
{
    /// <summary>Messages a partition holds in memory ahead of the one being stored.</summary>
    public const int Prefetch = 32;

    private const int OutageRetries = 1000;

    private readonly int instance = configuration.GetValue("Billing:Ledger:Instance", 0);
    private readonly int instances = configuration.GetValue("Billing:Ledger:Instances", 1);
    private readonly string queuePrefix = configuration["Billing:QueuePrefix"] ?? "billing";
    private string[] sources = [];

    public TimeSpan StandbyAfter { get; } = configuration.GetValue("Billing:Ledger:StandbyAfter", TimeSpan.FromSeconds(10));

    /// <summary>This process's own partitions, on the bus being configured.</summary>
    public void ConfigureBus(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator rabbit)
    {
        sources = [Name<UsageRecordedBatch>(rabbit), Name<LeasePending>(rabbit), Name<LeaseStarted>(rabbit), Name<LeasePreemptionScheduled>(rabbit), Name<LeaseEnded>(rabbit)];
        foreach (var partition in Enumerable.Range(0, partitions.Count).Where(IsOwn))
        {
            rabbit.ReceiveEndpoint(QueueName(partition), e => Configure(context, e, partition));
        }
    }

    /// <summary>The other partitions, once this process's share had time to become active elsewhere.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var standby = Enumerable.Range(0, partitions.Count).Where(p => !IsOwn(p)).ToList();
        if (standby.Count == 0)
        {
            return;
        }

        await Task.Delay(StandbyAfter, stoppingToken);
        // Resolved only now: the connector is the bus, which is being built while ConfigureBus runs.
        var connector = services.GetRequiredService<IReceiveEndpointConnector>();
        foreach (var partition in standby)
        {
            var handle = connector.ConnectReceiveEndpoint(QueueName(partition), (context, e) => Configure(context, (IRabbitMqReceiveEndpointConfigurator)e, partition));
            await handle.Ready.WaitAsync(stoppingToken);
        }
    }

    private bool IsOwn(int partition) => partition % instances == instance;

    private string QueueName(int partition) => $"{queuePrefix}-ledger-{LedgerPartitions.RoutingKey(partition)}";

    private void Configure(IBusRegistrationContext context, IRabbitMqReceiveEndpointConfigurator e, int partition)
    {
        e.ConfigureConsumeTopology = false;
        e.SingleActiveConsumer = true;
        e.PrefetchCount = Prefetch;
        e.ConcurrentMessageLimit = 1;
        e.Bind(LedgerPartitions.Exchange, exchange =>
        {
            exchange.ExchangeType = RabbitMQ.Client.ExchangeType.Direct;
            exchange.RoutingKey = LedgerPartitions.RoutingKey(partition);
            // The message types' exchanges stay fanout, as their publishers declare them.
            foreach (var source in sources)
            {
                exchange.Bind(source, s => s.ExchangeType = RabbitMQ.Client.ExchangeType.Fanout);
            }
        });
        e.UseMessageRetry(r => r.Intervals(50, 200, 1000, 5000, 15000));

        // A race lost to a hand-made batch, or PostgreSQL gone for a while, holds the partition until
        // the write succeeds: the next message must not overtake this one, and giving up would park
        // metered usage in the error queue.
        e.UseMessageRetry(r =>
        {
            r.Handle<Exception>(ex => WriteConflicts.IsConflict(ex) || IsOutage(ex));
            r.Exponential(OutageRetries, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100));
        });
        e.ConfigureConsumer<UsageBatchConsumer>(context);
        e.ConfigureConsumer<LeaseLifecycleConsumer>(context);
    }

    private static string Name<T>(IRabbitMqBusFactoryConfigurator rabbit)
        where T : class => rabbit.MessageTopology.GetMessageTopology<T>().EntityName;

    private static bool IsOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }
}
