using Billing.ServiceDefaults.Access;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Billing.ServiceDefaults.Telemetry;

public static class OpsDashboards
{
    public const string HangfirePath = "/ops/hangfire";

    /// <summary>
    /// Hangfire's dashboard for ops keys only: the endpoint's policy decides, so Hangfire's own filter
    /// (local requests only) is replaced by none. Every host shares one storage, so each shows every job.
    /// </summary>
    internal static void MapHangfireForOps(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHangfireDashboard(HangfirePath, new DashboardOptions { Authorization = [], AsyncAuthorization = [], DisplayStorageConnectionString = false })
            .RequireAuthorization(Policies.Ops).DisableRateLimiting();
}
