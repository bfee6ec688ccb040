using Billing.Fleet.Messaging;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Billing.Fleet.Tests.Grains;

/// <summary>
/// An Orleans test cluster running the fleet's real grains over the real PostgreSQL that
/// infra/postgres.sh starts (a fresh schema per run); only the broker is replaced by a recorder.
/// </summary>
public sealed class FleetCluster : IAsyncLifetime
{
    public static readonly string ConnectionString =
        Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") ?? "Host=127.0.0.1;Port=55432;Database=billing;Username=billing;Password=billing";

    public static readonly string Schema = $"fleet_test_{Guid.NewGuid():N}"[..24];

    public static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero));

    public static readonly RecordingOutbox Outbox = new();

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"drop schema if exists {Schema} cascade", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Drops every idle activation: their in-memory state is gone, as after a crash.</summary>
    public Task DeactivateAllAsync() =>
        Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.ConfigureServices(services =>
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = ConnectionString,
                ["Billing:Schema"] = Schema,
            }).Build();
            services.AddKeyedSingleton<TimeProvider>(BillingClock.Key, Time);
            services.AddMarten(_ => BillingMarten.Options(ConnectionString, Schema)).UseLightweightSessions().ApplyAllDatabaseChangesOnStartup();
            services.AddFleetServices(configuration);
            services.AddSingleton<IFleetOutbox>(Outbox);
        });
    }
}

[CollectionDefinition(Name)]
public sealed class FleetClusterCollection : ICollectionFixture<FleetCluster>
{
    public const string Name = "fleet cluster";
}
