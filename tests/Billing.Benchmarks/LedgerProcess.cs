using System.Diagnostics;
using System.Globalization;

namespace Billing.Benchmarks;

/// <summary>
/// A second ledger process beside a <see cref="BenchHost"/>: the real host (services/Host, built in the
/// same configuration as this program) running only the ledger module, as instance <paramref name="instance"/>
/// of <paramref name="instances"/>, on the bench host's schema and RabbitMQ virtual host, as
/// infra/cluster.sh starts ledger-2: the projection daemon off (the bench host runs it) and a standby
/// delay longer than any run, so each process keeps to its own partitions. Killed on dispose.
/// </summary>
public sealed class LedgerProcess : IDisposable
{
    /// <summary>Longer than any run: neither process takes the other's partitions while it lives.</summary>
    public const string StandbyAfter = "01:00:00";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(2);

    private readonly Process process;
    private readonly StreamWriter log;
    private bool closed;

    private LedgerProcess(Process process, StreamWriter log, string logPath)
    {
        (this.process, this.log, LogPath) = (process, log, logPath);
    }

    public int Id => process.Id;

    /// <summary>Its console output (warnings and errors), in full.</summary>
    public string LogPath { get; }

    /// <summary>CPU time it has used so far (user and system, as /proc/&lt;pid&gt;/stat counts it).</summary>
    public TimeSpan Cpu
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    /// <summary>Starts the process and returns once its /health/ready answers (or throws, with its log's last lines).</summary>
    public static async Task<LedgerProcess> StartAsync(BenchHost host, int instance, int instances, CancellationToken stop)
    {
        var dll = HostAssembly();
        var url = $"http://127.0.0.1:{BenchHost.FreePort()}";
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["ASPNETCORE_URLS"] = url,
                ["Logging__LogLevel__Default"] = "Warning",
                ["ConnectionStrings__Postgres"] = BenchHost.PostgresConnectionString,
                ["ConnectionStrings__RabbitMq"] = host.RabbitMqConnectionString,
                ["Billing__Schema"] = host.Schema,
                ["Billing__OpsKey"] = BenchHost.OpsKey,
                ["Billing__Services"] = "ledger",
                ["Billing__ProjectionDaemon"] = "Disabled",
                ["Billing__Ledger__Instance"] = instance.ToString(CultureInfo.InvariantCulture),
                ["Billing__Ledger__Instances"] = instances.ToString(CultureInfo.InvariantCulture),
                ["Billing__Ledger__StandbyAfter"] = StandbyAfter,
            },
        };
        var logPath = Path.Combine(Path.GetTempPath(), $"billing-bench-ledger-{instance}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var child = new LedgerProcess(process, log, logPath);
        try
        {
            process.OutputDataReceived += child.Write;
            process.ErrorDataReceived += child.Write;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await child.WaitReadyAsync(new Uri($"{url}/health/ready"), stop);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }

        process.WaitForExit();
        process.Dispose();
        lock (log)
        {
            closed = true;
            log.Dispose();
        }
    }

    private void Write(object sender, DataReceivedEventArgs line)
    {
        lock (log)
        {
            if (line.Data is not null && !closed)
            {
                log.WriteLine(line.Data);
            }
        }
    }

    private async Task WaitReadyAsync(Uri ready, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The ledger process exited with {process.ExitCode}; its log: {LogPath}\n{Tail()}");
            }

            try
            {
                if ((await http.GetAsync(ready, stop)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!stop.IsCancellationRequested)
            {
                // A probe that timed out.
            }

            if (waiting.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"The ledger process was not ready after {ReadyTimeout.TotalSeconds:0} s; its log: {LogPath}\n{Tail()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
        }
    }

    private string Tail()
    {
        lock (log)
        {
            log.Flush();
        }

        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(30));
    }

    /// <summary>
    /// services/Host's output in this program's configuration and framework: this program runs from
    /// tests/Billing.Benchmarks/bin/&lt;configuration&gt;/&lt;framework&gt;/, and building it builds the host.
    /// </summary>
    private static string HostAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var (framework, configuration) = (output.Name, output.Parent!.Name);
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Billing.sln")))
        {
            root = root.Parent;
        }

        var dll = root is null ? null : Path.Combine(root.FullName, "services", "Host", "bin", configuration, framework, "billing-host.dll");
        return dll is not null && File.Exists(dll) ? dll : throw new FileNotFoundException($"services/Host is not built in {configuration} next to this program.", dll);
    }
}
