using Billing.Host;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// docker-compose.yml, read as compose reads it (YAML merge keys resolved): no Docker engine is needed to
/// check that the gateway's upstreams are the module containers and that every container waits for
/// healthy dependencies.
/// </summary>
public sealed class Deploying_with_compose
{
    private readonly Dictionary<object, object> services = ReadServices();

    [Fact]
    public void Each_upstream_of_the_gateway_is_a_healthchecked_container_running_that_module()
    {
        var upstreams = GatewayConf.Read().Upstreams.Order().ToList();

        Assert.Equal(BillingModules.Select(null).Select(m => m.Name).Order(), upstreams);
        Assert.All(upstreams, upstream =>
        {
            var service = Service(upstream);
            Assert.Equal(upstream, Map(service["environment"])["Billing__Services"]);
            Assert.True(HasHealthcheck(service), $"{upstream} has no healthcheck");
        });
        Assert.Contains("./infra/docker/gateway.conf:/etc/nginx/conf.d/default.conf:ro", List(Service("gateway")["volumes"]));
        Assert.Equal(upstreams, Map(Service("gateway")["depends_on"]).Keys.Cast<string>().Order());
    }

    [Fact]
    public void Every_container_starts_once_what_it_depends_on_is_healthy()
    {
        var waits = services.SelectMany(s => Map(Map(s.Value).GetValueOrDefault("depends_on") ?? new Dictionary<object, object>())
            .Select(d => (service: (string)s.Key, on: (string)d.Key, condition: Map(d.Value)["condition"]))).ToList();

        Assert.Contains(waits, w => w is { service: "agent", on: "gateway" });
        Assert.All(waits, w =>
        {
            Assert.Equal("service_healthy", w.condition);
            Assert.True(HasHealthcheck(Service(w.on)), $"{w.service} waits for {w.on}, which has no healthcheck");
        });
    }

    private Dictionary<object, object> Service(string name) => Map(services[name]);

    private static bool HasHealthcheck(Dictionary<object, object> service) =>
        service.GetValueOrDefault("healthcheck") is Dictionary<object, object> check && check.ContainsKey("test") && !check.ContainsKey("disable");

    private static Dictionary<object, object> Map(object value) => Assert.IsType<Dictionary<object, object>>(value);

    private static List<object> List(object value) => Assert.IsType<List<object>>(value);

    private static Dictionary<object, object> ReadServices()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Repository.Root, "docker-compose.yml")));
        var compose = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return Map(compose["services"]);
    }
}
