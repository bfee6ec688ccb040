using Billing.Host;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// The one base URL: gateway.conf (compose's nginx) and the YARP gateway's routes (services/Gateway) are generated
/// from each module's declared routes, and every route a module's host maps (running alone) and every route of the
/// README's API table reaches the module that serves it.
/// </summary>
public sealed class Routing_through_the_gateway(ModuleHosts hosts) : IClassFixture<ModuleHosts>
{
    /// <summary>Every host maps "run a job now"; the gateway picks the host by the job id's prefix.</summary>
    private const string JobRun = "/v1/ops/jobs/{}/run";

    private readonly GatewayConf gateway = GatewayConf.Read();

    [Fact]
    public void The_yarp_gateway_fronts_every_module_the_host_runs() =>
        Assert.Equal(BillingModules.Select(null).Select(m => m.Name), Billing.Gateway.GatewayApp.Modules.Select(m => m.Name));

    [Fact]
    public void Gateway_conf_is_generated_from_the_modules_routes()
    {
        var modules = BillingModules.Select(null);
        var generated = GatewayConf.Render(modules);
        if (Environment.GetEnvironmentVariable("BILLING_WRITE_GATEWAY_CONF") == "1")
        {
            File.WriteAllText(GatewayConf.PathInRepository, generated);
        }

        // nginx refuses to start on a location declared twice.
        Assert.Empty(modules.SelectMany(m => m.Routes).GroupBy(r => r).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Equal(generated, File.ReadAllText(GatewayConf.PathInRepository));
    }

    [Fact]
    public void Every_route_a_module_maps_reaches_that_module()
    {
        var misrouted = hosts.Surfaces.SelectMany(s => s.Routes.SelectMany(route => SamplesOf(route, s.JobIds)
            .Select(path => (route, path, expected: route.IsHostLevel ? GatewayConf.Itself : s.Module))))
            .Where(r => gateway.Route(r.path) != r.expected)
            .Select(r => $"{r.route} ({r.path}) goes to {gateway.Route(r.path)}, not {r.expected}").ToList();

        Assert.All(hosts.Surfaces, s => Assert.NotEmpty(s.Routes));
        Assert.Empty(misrouted);
    }

    [Fact]
    public async Task Every_route_a_module_maps_reaches_that_module_through_the_yarp_gateway()
    {
        await using var yarp = await YarpGateway.StartAsync(instancesPerModule: 1);
        var misrouted = new List<string>();
        foreach (var surface in hosts.Surfaces)
        {
            foreach (var (route, path) in surface.Routes.Where(r => !r.IsHostLevel).SelectMany(r => SamplesOf(r, surface.JobIds).Select(p => (r, p))))
            {
                var (_, instance) = await yarp.SendAsync(new HttpMethod(route.Method), path);
                if (instance != $"{surface.Module}-1")
                {
                    misrouted.Add($"{route} ({path}) went to {instance ?? "the gateway itself"}, not {surface.Module}");
                }
            }
        }

        Assert.Empty(misrouted);
    }

    [Fact]
    public void Every_route_of_the_readme_api_table_reaches_a_module_that_maps_it()
    {
        var readme = ReadmeApiTable.Read();
        var allJobs = hosts.Surfaces.SelectMany(s => s.JobIds).ToList();

        var unserved = readme.SelectMany(route => SamplesOf(route, allJobs).Select(path => (route, path, upstream: gateway.Route(path))))
            .Where(r => !(r.route.IsHostLevel
                ? r.upstream == GatewayConf.Itself
                : hosts.Surfaces.SingleOrDefault(s => s.Module == r.upstream) is { } served
                  && served.Routes.Contains(r.route)
                  && (r.route.Template != JobRun || served.JobIds.Any(j => r.path == JobPath(j)))))
            .Select(r => $"{r.route} ({r.path}) goes to {r.upstream}, which does not serve it").ToList();

        Assert.True(readme.Count >= 25, $"The README's API table lists {readme.Count} routes; the parser lost some.");
        Assert.NotEmpty(allJobs);
        Assert.Empty(unserved);
    }

    [Fact]
    public void Every_route_a_module_maps_is_in_the_readme_api_table()
    {
        var readme = ReadmeApiTable.Read().ToHashSet();

        var undocumented = hosts.Surfaces.SelectMany(s => s.Routes.Where(r => !r.IsReference && !readme.Contains(r)).Select(r => $"{r} ({s.Module})")).ToList();

        Assert.Empty(undocumented);
    }

    private static IEnumerable<string> SamplesOf(ApiRoute route, IEnumerable<string> jobIds) =>
        route.Template == JobRun ? jobIds.Select(JobPath) : [route.Sample()];

    private static string JobPath(string jobId) => JobRun.Replace("{}", jobId, StringComparison.Ordinal);
}
