using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Billing.Fleet;

/// <summary>Ready once this silo has joined its cluster and until it starts leaving it.</summary>
public sealed class SiloHealthCheck(ISiloStatusOracle silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(silo.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, $"Silo {silo.CurrentStatus}."));
}
