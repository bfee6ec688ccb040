namespace Billing.ServiceDefaults.Jobs;

/// <summary>Recurring work. Jobs are idempotent: a second run for the same moment changes nothing.</summary>
public interface IBillingJob
{
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>A recurring job: constant id, cron schedule, and the Hangfire queue of the service that runs it.</summary>
public sealed record BillingJobSchedule(string Id, string Cron, string Queue);
