namespace Billing.Fleet.Telemetry;

/// <summary>A stretch in which a leased GPU reported healthy but used under the threshold.</summary>
public sealed record IdleSpan(int Gpu, DateTimeOffset From, DateTimeOffset Until, double MeanUtilizationPct);

/// <summary>
/// Finds a GPU's idle spans: runs of consecutive heartbeats, none further apart than the timeout,
/// in each of which the GPU is healthy and reports utilization under the threshold; a run counts
/// once its first and last heartbeats are at least <c>minimum</c> apart. A heartbeat at or over the
/// threshold, without a reading, with the GPU unhealthy, or after a gap ends the run.
/// </summary>
public static class IdleSpans
{
    public static IEnumerable<IdleSpan> Find(IReadOnlyList<TelemetrySample> samples, int gpu, double threshold, TimeSpan timeout, TimeSpan minimum)
    {
        var run = new List<(DateTimeOffset At, double Utilization)>();
        foreach (var sample in samples)
        {
            var idle = sample.IsHealthy(gpu) && sample.Gpus.GetValueOrDefault(gpu).UtilizationPct is { } u && u < threshold;
            if (run.Count > 0 && (!idle || sample.ObservedAt - run[^1].At > timeout))
            {
                if (Span(run, gpu, minimum) is { } span)
                {
                    yield return span;
                }

                run.Clear();
            }

            if (idle)
            {
                run.Add((sample.ObservedAt, sample.Gpus[gpu].UtilizationPct!.Value));
            }
        }

        if (Span(run, gpu, minimum) is { } last)
        {
            yield return last;
        }
    }

    private static IdleSpan? Span(List<(DateTimeOffset At, double Utilization)> run, int gpu, TimeSpan minimum) =>
        run.Count > 0 && run[^1].At - run[0].At >= minimum
            ? new IdleSpan(gpu, run[0].At, run[^1].At, Math.Round(run.Average(r => r.Utilization), 3))
            : null;
}
