using System.Net;
using System.Net.Sockets;
using Billing.Fleet.Messaging;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Billing.Fleet.Tests.Grains;

/// <summary>Two silos configured as production would (Redis membership, loopback endpoints) form one cluster.</summary>
[Collection(FleetClusterCollection.Name)]
public sealed class Clustering_silos_through_redis : IAsyncLifetime
{
    private readonly string clusterId = $"it-{Guid.NewGuid():N}";
    private readonly List<IHost> silos = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var silo = Silo();
            await silo.StartAsync();
            silos.Add(silo);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in silos.AsEnumerable().Reverse())
        {
            await silo.StopAsync();
            silo.Dispose();
        }
    }

    [Fact]
    public async Task Both_silos_join_and_see_the_same_grains()
    {
        var (first, second) = (silos[0].Services.GetRequiredService<IGrainFactory>(), silos[1].Services.GetRequiredService<IGrainFactory>());
        var nodeId = $"node-{Guid.NewGuid():N}";

        var hosts = await first.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        await first.GetGrain<INodeGrain>(nodeId).Register(new NodeSpec("CLUSTER-TEST", 4, "test-1"));
        var seenFromSecond = await second.GetGrain<INodeGrain>(nodeId).Get();

        Assert.Equal(2, hosts.Count);
        Assert.Equal("CLUSTER-TEST", seenFromSecond?.Sku);
    }

    private IHost Silo()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = FleetCluster.ConnectionString,
            ["ConnectionStrings:Redis"] = Environment.GetEnvironmentVariable("ConnectionStrings__Redis") ?? "127.0.0.1:56379",
            ["Billing:Schema"] = FleetCluster.Schema,
            ["Silo:Clustering"] = "Redis",
            ["Silo:ClusterId"] = clusterId,
            ["Silo:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Silo:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Services.AddKeyedSingleton<TimeProvider>(BillingClock.Key, FleetCluster.Time);
        builder.Services.AddMarten(_ => BillingMarten.Options(FleetCluster.ConnectionString, FleetCluster.Schema)).UseLightweightSessions();
        builder.Services.AddFleetServices(builder.Configuration);
        builder.Services.AddSingleton<IFleetOutbox>(new RecordingOutbox());
        builder.UseOrleans(silo => silo.ConfigureFleetSilo(builder.Configuration));
        return builder.Build();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
