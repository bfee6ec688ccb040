using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Billing.ServiceDefaults.Access;

namespace Billing.ServiceDefaults.Jobs;

/// <summary>
/// Hangfire on PostgreSQL for every service: each module adds its jobs with <see cref="AddBillingJob{TJob}"/>,
/// the host's server works only its modules' queues, and ops can run any job now with the same code.
/// </summary>
public static class BillingJobs
{
    public static IServiceCollection AddBillingJob<TJob>(this IServiceCollection services, string id, string cron, string queue)
        where TJob : class, IBillingJob
    {
        services.AddKeyedTransient<IBillingJob, TJob>(id);
        services.AddSingleton(new BillingJobSchedule(id, cron, queue));
        return services;
    }

    internal static void AddHangfireStorage(this IServiceCollection services, IConfiguration configuration, IEnumerable<string> queues)
    {
        var schema = (configuration["Billing:Schema"] ?? "billing") + "_hangfire";
        services.AddHangfire(hangfire => hangfire
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(
                storage => storage.UseNpgsqlConnection(configuration.PostgresConnectionString()),
                new PostgreSqlStorageOptions { SchemaName = schema, QueuePollInterval = TimeSpan.FromSeconds(1), PrepareSchemaIfNecessary = true }));
        var served = queues.Distinct().ToArray();
        if (served.Length > 0)
        {
            services.AddHangfireServer(o =>
            {
                o.Queues = served;
                o.WorkerCount = 2;
            });
        }

        services.AddTransient<BillingJobRunner>();
        services.AddSingleton<JobMetrics>();
    }

    /// <summary>
    /// Registers every module's recurring jobs under their constant ids, or, with
    /// <c>Billing:Jobs:Schedule=false</c>, takes them off the schedule (they run only when asked:
    /// tests on a fake clock, a host kept quiet); maps the ops "run now" endpoint.
    /// </summary>
    internal static void MapBillingJobs(this WebApplication app, IEndpointRouteBuilder api)
    {
        var recurring = app.Services.GetRequiredService<IRecurringJobManager>();
        var scheduled = app.Configuration.GetValue("Billing:Jobs:Schedule", true);
        foreach (var job in app.Services.GetServices<BillingJobSchedule>())
        {
            if (scheduled)
            {
                recurring.AddOrUpdate<BillingJobRunner>(job.Id, job.Queue, runner => runner.RunAsync(job.Id, CancellationToken.None), job.Cron);
            }
            else
            {
                // Hangfire keeps a schedule in its storage: one left by an earlier start would go on firing.
                recurring.RemoveIfExists(job.Id);
            }
        }

        api.MapPost("/v1/ops/jobs/{jobId}/run", async Task<Results<Ok<JobRan>, ProblemHttpResult>> (
            string jobId, IServiceProvider services, BillingJobRunner runner, [FromKeyedServices(BillingClock.Key)] TimeProvider time, HttpContext http) =>
        {
            if (services.GetKeyedService<IBillingJob>(jobId) is null)
            {
                return Problems.NotFound($"No job '{Validation.InputRules.Printable(jobId)}' in this service.");
            }

            await runner.RunNowAsync(jobId, http.RequestAborted);
            return TypedResults.Ok(new JobRan(jobId, time.GetUtcNow()));
        }).RequireAuthorization(Policies.Ops);
    }
}

/// <summary>A job run now, and when it ran.</summary>
public sealed record JobRan(string JobId, DateTimeOffset RanAt);

/// <summary>
/// Runs a job by its id, one run at a time across every host (<see cref="JobLock"/>): each run
/// carries on from the state the one before it left.
/// </summary>
public sealed partial class BillingJobRunner(IServiceProvider services, IConfiguration configuration, JobMetrics metrics, ILogger<BillingJobRunner> logger)
{
    /// <summary>
    /// What Hangfire invokes. A run still going (on any host) does this one's work, so this one
    /// stands down rather than hold a worker the other jobs need while it waits.
    /// </summary>
    public async Task RunAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var turn = await JobLock.TryAcquireAsync(configuration.PostgresConnectionString(), LockNameOf(jobId), cancellationToken);
        if (turn is null)
        {
            LogStoodDown(logger, jobId);
            return;
        }

        await metrics.MeasureAsync(jobId, () => services.GetRequiredKeyedService<IBillingJob>(jobId).RunAsync(cancellationToken));
    }

    /// <summary>Ops' "run now": waits for a run in progress, then runs, so the caller sees its effect.</summary>
    public async Task RunNowAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var turn = await JobLock.AcquireAsync(configuration.PostgresConnectionString(), LockNameOf(jobId), cancellationToken);
        await metrics.MeasureAsync(jobId, () => services.GetRequiredKeyedService<IBillingJob>(jobId).RunAsync(cancellationToken));
    }

    /// <summary>The lock a job's runs take turns on: one per job and schema.</summary>
    public string LockNameOf(string jobId) => $"{configuration["Billing:Schema"] ?? "billing"}:{jobId}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} is already running; this run stands down.")]
    private static partial void LogStoodDown(ILogger logger, string jobId);
}
