using Billing.ServiceDefaults;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Billing.Gateway;

/// <summary>
/// YARP's routes and clusters from the modules' declared <see cref="IBillingModule.Routes"/> (the declarations
/// infra/docker/gateway.conf is generated from): one cluster per module over its instances, round-robin,
/// each instance probed on <c>/health/ready</c> and passed over while it fails.
/// </summary>
public static class GatewayRoutes
{
    public const string ReadinessPath = "/health/ready";

    /// <summary>The longest matching prefix wins, as in nginx: a route's order is its prefix's length, negated.</summary>
    public static IReadOnlyList<RouteConfig> Routes(IEnumerable<IBillingModule> modules) =>
        modules.SelectMany(module => module.Routes.Select(prefix => new RouteConfig
        {
            RouteId = $"{module.Name}:{prefix}",
            ClusterId = module.Name,
            Order = -prefix.Length,
            Match = new RouteMatch { Path = Pattern(prefix) },
        })).ToList();

    /// <summary>
    /// A prefix as a route pattern: whole segments and anything below them (<c>/v1/leases/{**rest}</c>); a prefix
    /// ending in '-' is the start of a segment (<c>/v1/ops/jobs/fleet-</c>: the jobs whose ids start so).
    /// </summary>
    public static string Pattern(string prefix) =>
        prefix.EndsWith('-') ? prefix + "{segment}/{**rest}" : prefix.TrimEnd('/') + "/{**rest}";

    public static IReadOnlyList<ClusterConfig> Clusters(IEnumerable<IBillingModule> modules, GatewayOptions options) =>
        modules.Select(module => new ClusterConfig
        {
            ClusterId = module.Name,
            LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
            HealthCheck = new HealthCheckConfig
            {
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = options.HealthInterval,
                    Timeout = options.HealthInterval,
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = ReadinessPath,
                },
                // A refused connection marks the instance at once, before the next probe.
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = options.HealthInterval * 2,
                },
                // When every instance fails its probe (the database is down), still try them: their answer beats ours.
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
            },
            Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1" },
            Destinations = options.InstancesOf(module.Name)
                .Select((address, i) => (Id: $"{module.Name}-{i + 1}", Address: address))
                .ToDictionary(d => d.Id, d => new DestinationConfig { Address = d.Address }),
        }).ToList();
}
