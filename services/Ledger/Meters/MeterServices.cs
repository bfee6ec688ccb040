using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Billing.Ledger.Meters;

public static class MeterServices
{
    /// <summary>Meters, the ingest log and its rollup into the ledger's streams.</summary>
    public static void AddMeters(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.Configure<MeterOptions>(configuration.GetSection(MeterOptions.Section));
        services.AddHostedService<MeterVersions>();
        services.AddBillingDataSource(configuration);
        services.AddSingleton(sp => new MeterEventLog(
            sp.GetRequiredService<NpgsqlDataSource>(), configuration["Billing:Schema"] ?? "billing", sp.GetRequiredService<ILogger<MeterEventLog>>()));
        services.AddHostedService(sp => sp.GetRequiredService<MeterEventLog>());
        services.AddScoped<MeterUsageReader>();
        services.AddSingleton<MeterRollup>();
        MeterAudit.Add(services, configuration);
        services.AddBillingJob<MeterEventRetentionJob>(MeterEventRetentionJob.Id, "43 3 * * *", LedgerModule.JobQueueName);
        services.AddHostedService(sp => sp.GetRequiredService<MeterRollup>());
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<MetersChanged>();
            options.Events.AddEventType<MeterUsageAggregated>();
        });
    }
}
