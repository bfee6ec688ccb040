using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Agent;

/// <summary>Reads per-GPU telemetry from <c>nvidia-smi</c>'s CSV query mode.</summary>
public static class NvidiaSmi
{
    public const string Executable = "nvidia-smi";

    public static readonly string[] Fields =
    [
        "index", "uuid", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu", "power.draw",
        "ecc.errors.uncorrected.volatile.total",
    ];

    public static string Arguments => $"--query-gpu={string.Join(',', Fields)} --format=csv,noheader,nounits";

    /// <summary>
    /// Parses the query output. A row that parses is a healthy GPU; a row with a readable index but
    /// the wrong shape is reported unhealthy; a line with no index (nvidia-smi's "Unable to determine
    /// the device handle…" for a GPU that fell off the bus) cannot be attributed and is left out, so the
    /// API sees that GPU as not reported. XID errors are not in the CSV, so xid stays null.
    /// </summary>
    public static IReadOnlyList<GpuTelemetry> Parse(string csv)
    {
        var gpus = new List<GpuTelemetry>();
        foreach (var line in csv.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var cells = line.Split(',', StringSplitOptions.TrimEntries);
            if (!int.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || gpus.Any(g => g.Index == index))
            {
                continue;
            }

            if (cells.Length != Fields.Length || Missing(cells[1]))
            {
                gpus.Add(new GpuTelemetry(index, null, false, null, null, null, null, null, null, null));
                continue;
            }

            gpus.Add(new GpuTelemetry(
                index,
                cells[1],
                Healthy: true,
                UtilizationPct: Number(cells[2]),
                MemoryUsedMiB: Number(cells[3]),
                MemoryTotalMiB: Number(cells[4]),
                TemperatureC: Number(cells[5]),
                PowerW: Number(cells[6]),
                EccUncorrected: Count(cells[7]),
                Xid: null));
        }

        return gpus;
    }

    /// <summary>Runs the query; null when nvidia-smi is not installed.</summary>
    public static async Task<string?> QueryAsync(TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(Executable, Arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{Executable} did not start.");
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var error = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{Executable} did not answer within {timeout.TotalSeconds:0} s.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{Executable} exited with {process.ExitCode}: {(await error).Trim()}");
            }

            return await output;
        }
    }

    private static bool Missing(string cell) =>
        cell.Length == 0 || cell.StartsWith('[') || cell.Equals("N/A", StringComparison.OrdinalIgnoreCase);

    private static double? Number(string cell) =>
        !Missing(cell) && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long? Count(string cell) =>
        !Missing(cell) && long.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
