using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Billing.Benchmarks;

/// <summary>
/// Where a request's time goes, from the spans the host already emits (ASP.NET Core's request, Orleans'
/// grain calls, the group commit, Npgsql's commands): per span name, how many, p50 and p99, and for
/// spans that serve a batch, its mean size. Wall time, not CPU: waits show here, CPU in <see cref="MachineCounters"/>.
/// Spans are sampled only between <see cref="Start"/> and <see cref="Stop"/>.
/// </summary>
public sealed class SpanTimes : IDisposable
{
    private static readonly string[] Sources = ["Microsoft.AspNetCore", "Microsoft.Orleans", "Billing.", "Npgsql"];

    private readonly ConcurrentDictionary<string, Timings> spans = new();
    private readonly ActivityListener listener;
    private volatile bool recording;

    public SpanTimes()
    {
        listener = new ActivityListener
        {
            ShouldListenTo = source => Sources.Any(s => source.Name.StartsWith(s, StringComparison.Ordinal)),
            // Spans cost every request an Activity: only a recording pays for them.
            Sample = (ref _) => recording ? ActivitySamplingResult.AllData : ActivitySamplingResult.None,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(listener);
    }

    /// <summary>Forgets what was seen and records from now on.</summary>
    public void Start()
    {
        spans.Clear();
        recording = true;
    }

    public void Stop() => recording = false;

    public void Print(int top)
    {
        Console.WriteLine("spans (wall time):   name: count, p50 / p99 ms, mean batch");
        foreach (var (name, timings) in spans.OrderByDescending(s => s.Value.Total).Take(top))
        {
            Console.WriteLine($"  {name}: {timings}");
        }
    }

    public void Dispose() => listener.Dispose();

    private void Stopped(Activity activity)
    {
        if (!recording)
        {
            return;
        }

        var name = $"{activity.Source.Name} {activity.DisplayName}";
        var size = activity.GetTagItem("billing.batch.size") is int batch ? batch : 0;
        spans.GetOrAdd(name.Length > 90 ? name[..90] : name, _ => new Timings()).Add(activity.Duration.TotalMilliseconds, size);
    }

    private sealed class Timings
    {
        private readonly List<double> milliseconds = [];
        private long batched;

        public double Total { get; private set; }

        public void Add(double ms, int size)
        {
            lock (milliseconds)
            {
                milliseconds.Add(ms);
                Total += ms;
                batched += size;
            }
        }

        public override string ToString()
        {
            lock (milliseconds)
            {
                var sorted = milliseconds.Order().ToArray();
                string At(double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)].ToString("0.00", CultureInfo.InvariantCulture);
                return $"{sorted.Length}, {At(0.5)} / {At(0.99)}{(batched > 0 ? $", batch {(double)batched / sorted.Length:0.0}" : "")}";
            }
        }
    }
}
