using Microsoft.Extensions.Configuration;

namespace Billing.Gateway;

/// <summary>
/// <c>Gateway:Instances:&lt;module&gt;</c>: the base URLs of that module's processes, comma-separated;
/// <c>Gateway:HealthInterval</c>: how often each is probed (default 2 s).
/// </summary>
public sealed class GatewayOptions(IConfiguration configuration)
{
    public TimeSpan HealthInterval { get; } = configuration.GetValue("Gateway:HealthInterval", TimeSpan.FromSeconds(2));

    public IReadOnlyList<string> InstancesOf(string module)
    {
        var instances = (configuration[$"Gateway:Instances:{module}"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return instances.Length > 0
            ? instances
            : throw new InvalidOperationException($"Gateway:Instances:{module} names no instance of the {module} service.");
    }
}
