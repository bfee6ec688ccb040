using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Billing.ServiceDefaults;

/// <summary>
/// The process's one PostgreSQL data source, so one connection pool: Marten, the heartbeat and meter logs, the
/// idempotency keys and the telemetry reads share it. A pool per component each grew to its own maximum under
/// load (200 idle connections in one host against PostgreSQL's 300), and a second process then found none left.
/// Its size is the connection string's (<c>Maximum Pool Size</c>, 100 unless set). Adding it twice adds nothing.
/// </summary>
public static class BillingDataSource
{
    public static IServiceCollection AddBillingDataSource(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(_ => NpgsqlDataSource.Create(configuration.PostgresConnectionString()));
        return services;
    }
}
