using System.Globalization;
using System.Net;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

public sealed class Running_jobs_one_at_a_time(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_scheduled_run_stands_down_while_another_runs_and_run_now_waits_its_turn()
    {
        var runner = platform.Services.GetRequiredService<BillingJobRunner>();
        var connection = platform.Services.GetRequiredService<IConfiguration>().PostgresConnectionString();
        Task waiting;
        HttpClient tenant;
        DateTimeOffset start;
        await using (await JobLock.AcquireAsync(connection, runner.LockNameOf("invoicing-draft"), CancellationToken.None))
        {
            (_, tenant, _, start) = await api.RunLeaseAsync();
            await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
            await runner.RunAsync("invoicing-draft", CancellationToken.None);
            Assert.Empty(await PlatformClient.InvoicesAsync(tenant, BillingPeriod.Of(start)));

            waiting = api.Ops.PostAsync("/v1/ops/jobs/invoicing-draft/run", null);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(waiting.IsCompleted);
        }

        await waiting;
        Assert.Single(await PlatformClient.InvoicesAsync(tenant, BillingPeriod.Of(start)));
    }

    [Fact]
    public async Task With_the_schedule_off_no_job_is_scheduled_not_even_one_an_earlier_start_scheduled()
    {
        var declared = platform.Services.GetServices<BillingJobSchedule>().ToList();
        var recurring = platform.Services.GetRequiredService<IRecurringJobManager>();
        foreach (var job in declared)
        {
            // As a start with the schedule on leaves them, but with a cron that never fires while the test runs.
            recurring.AddOrUpdate<BillingJobRunner>(job.Id, job.Queue, runner => runner.RunAsync(job.Id, CancellationToken.None), Cron.Never());
        }

        var before = ScheduledJobs();
        await platform.RestartAsync();

        Assert.Equal(declared.Select(j => j.Id).Order(), before.Order());
        Assert.Empty(ScheduledJobs());
    }

    private List<string> ScheduledJobs()
    {
        using var connection = platform.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs().Select(j => j.Id).ToList();
    }
}
