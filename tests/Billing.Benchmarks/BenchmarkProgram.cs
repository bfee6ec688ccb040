using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Billing.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project tests/Billing.Benchmarks -- placement|gang|metering|month-close|ingest|ledger [--option value ...]</c>.
/// Prints figures; it has no pass/fail beyond the exit code of a failed check (1) or bad usage (2).
/// </summary>
public static class BenchmarkProgram
{
    private const string Usage = """
        usage: Billing.Benchmarks <benchmark> [options]
          placement [--nodes 500] [--gpus 8] [--leases 4000] [--concurrency 64]
              leases placed per second on one silo (SkuPoolGrain.Place + LeaseGrain.Start)
          gang [--fabrics 8] [--nodes-per-fabric 512] [--racks 16] [--gpus 8] [--gang-gpus 2048] [--rounds 20] [--mixed 200] [--heartbeat-periods 4]
              a gang lease of whole nodes placed and started, p50/p99; then concurrent mixed requests (1 to 1,024 GPUs):
              placed per second, and no GPU given twice; then every node heartbeating every 15 s: sustained or not, CPU left free
          metering  [--nodes 200] [--gpus 8] [--minutes 60] [--concurrency 64]
              heartbeats/s through the node grains, usage records/s stored in Marten
          month-close [--tenants 10000] [--leases 100000] [--windows-per-lease 6] [--late-tenants 100]
              a month of usage bulk-inserted into the ledger, then the invoicing-draft job closes it once:
              seconds to rate, draft and issue every tenant's invoice, gapless numbers, peak memory
          ingest [--events 200000] [--clients 1] [--duplicates 10] [--tenants 10]
              token CloudEvents through POST /v1/events in posts of 1,000 (a share of them copies): events/s stored durably,
              p50/p99 of a post, then how long until the rollup and the usage API show the last event, and nothing counted twice
          ledger [--records 50000] [--leases 2000] [--tenants 20] [--per-publish 4] [--raw 50000] [--processes 1]
              usage records through the fleet outbox, RabbitMQ and the ledger: records/s stored, the hourly projection's delay,
              beside binary COPY and Marten quick append measured in the same run; --processes 2 adds a second ledger process
              (services/Host, ledger only, instance 1 of 2) that stores half the partitions
          heartbeats [--nodes 2000] [--gpus 8] [--seconds 10] [--concurrency 128] [--paced-rate 5000] [--lease-hours 24] [--queries 200]
              heartbeats/s over HTTP (Kestrel) with every node leased, beside the raw INSERT ceiling measured in the same run, where
              the time went; a tenant's month of usage at hourly grain p50/p99, idle and under the paced rate; every 202 stored
          lease-memory [--leases 100000] [--gpus 8] [--concurrency 64]
              the process's working set and GC heap with that many active lease grains (each with an open window), per grain
        """;

    public static async Task<int> Main(string[] args)
    {
        var benchmarks = new Dictionary<string, (string[] Options, Func<Options, CancellationToken, Task<bool>> Run)>
        {
            ["placement"] = (PlacementBenchmark.OptionNames, PlacementBenchmark.RunAsync),
            ["gang"] = (GangPlacementBenchmark.OptionNames, GangPlacementBenchmark.RunAsync),
            ["metering"] = (MeteringBenchmark.OptionNames, MeteringBenchmark.RunAsync),
            ["month-close"] = (MonthCloseBenchmark.OptionNames, MonthCloseBenchmark.RunAsync),
            ["ingest"] = (IngestBenchmark.OptionNames, IngestBenchmark.RunAsync),
            ["ledger"] = (LedgerBenchmark.OptionNames, LedgerBenchmark.RunAsync),
            ["heartbeats"] = (HeartbeatBenchmark.OptionNames, HeartbeatBenchmark.RunAsync),
            ["lease-memory"] = (LeaseGrainMemoryBenchmark.OptionNames, LeaseGrainMemoryBenchmark.RunAsync),
        };
        if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
        {
            Console.Error.WriteLine(args.Length == 0 ? Usage : $"unknown benchmark '{args[0]}'\n{Usage}");
            return 2;
        }

        if (!Options.TryParse(args.Skip(1), benchmark.Options, out var options, out var error))
        {
            Console.Error.WriteLine($"{error}\n{Usage}");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        // SIGTERM as Ctrl-C: the run stops and cleans up (schema, virtual host, child processes) rather than dying in place.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        Console.WriteLine($"benchmark:           {args[0]}");
        Console.WriteLine($"machine:             {Environment.ProcessorCount} logical processors, {RuntimeInformation.OSDescription}, " +
            $".NET {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC");
        try
        {
            return await benchmark.Run(options, stop.Token) ? 0 : 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }
}

/// <summary><c>--name value</c> pairs of positive whole numbers, names from the benchmark's list.</summary>
public sealed class Options
{
    private readonly Dictionary<string, int> values = [];

    public static bool TryParse(IEnumerable<string> args, IReadOnlyCollection<string> known, out Options options, out string? error)
    {
        options = new Options();
        error = null;
        using var arg = args.GetEnumerator();
        while (arg.MoveNext())
        {
            var name = arg.Current;
            if (!name.StartsWith("--", StringComparison.Ordinal) || !known.Contains(name[2..]))
            {
                error = $"unknown option '{name}'; this benchmark takes {string.Join(", ", known.Select(k => "--" + k))}";
                return false;
            }

            if (!arg.MoveNext() || !int.TryParse(arg.Current, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
            {
                error = $"{name} takes a positive whole number";
                return false;
            }

            options.values[name[2..]] = value;
        }

        return true;
    }

    public int Get(string name, int fallback) => values.GetValueOrDefault(name, fallback);
}

/// <summary>Latency percentiles over Stopwatch timestamps.</summary>
public static class Latency
{
    public static double Milliseconds(long elapsedTimestamp) => elapsedTimestamp * 1000.0 / Stopwatch.Frequency;

    public static string Summary(IEnumerable<long> elapsed)
    {
        var sorted = elapsed.Order().ToArray();
        if (sorted.Length == 0)
        {
            return "n/a";
        }

        string At(double p) => Milliseconds(sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)]).ToString("0.00", CultureInfo.InvariantCulture);
        return $"p50 {At(0.50)} ms, p99 {At(0.99)} ms, max {At(1.0)} ms";
    }
}
