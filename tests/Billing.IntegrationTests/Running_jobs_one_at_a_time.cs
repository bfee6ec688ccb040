using System.Globalization;
using System.Net;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.IntegrationTests;

[Collection(PlatformCollection.Name)]
public sealed class Running_jobs_one_at_a_time(Platform platform)
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
}
