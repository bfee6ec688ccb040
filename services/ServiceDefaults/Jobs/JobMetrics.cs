using System.Diagnostics;
using System.Diagnostics.Metrics;
using Billing.ServiceDefaults.Telemetry;

namespace Billing.ServiceDefaults.Jobs;

/// <summary>How long each job's runs take; a failed run carries <c>error.type</c> (the exception's type).</summary>
public sealed class JobMetrics
{
    public const string MeterName = BillingTelemetry.Prefix + "Jobs";

    private readonly Histogram<double> duration;

    public JobMetrics(IMeterFactory meters) =>
        duration = meters.Create(MeterName).CreateHistogram<double>("billing.job.duration", "s", "Duration of a job's run, by job id; failures carry error.type.");

    public async Task MeasureAsync(string jobId, Func<Task> run)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await run();
            duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("billing.job.id", jobId));
        }
        catch (Exception ex)
        {
            duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("billing.job.id", jobId), new KeyValuePair<string, object?>("error.type", ex.GetType().FullName));
            throw;
        }
    }
}
