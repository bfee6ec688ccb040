using System.Globalization;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Agent;

/// <summary>One GPU as nvidia-smi reports it: its telemetry, its PCI bus id (to match kernel XIDs) and why it is unhealthy, if it is.</summary>
public sealed record GpuStatus(GpuTelemetry Telemetry, string? BusId, IReadOnlyList<string> Faults);

/// <summary>
/// Reads per-GPU telemetry and health from <c>nvidia-smi</c>'s CSV query mode. A GPU is unhealthy when
/// it reports uncorrectable ECC errors, a hardware clock slowdown (HW slowdown, HW thermal or power
/// brake: the board protecting itself, unlike the software power cap or idle), retired pages or row
/// remapping pending (a reset is needed), or a failed row remapping. A field the GPU does not support
/// ("[N/A]", "[Not Supported]": retired pages before Ampere's row remapping, and the reverse) tells nothing.
/// </summary>
public static class NvidiaSmi
{
    public const string Executable = "nvidia-smi";

    /// <summary>NVML's clock throttle (event) reasons that mean the hardware itself is slowing the GPU down.</summary>
    public const ulong HardwareSlowdowns = 0x08 | 0x40 | 0x80;

    public static readonly string[] Fields =
    [
        "index", "uuid", "pci.bus_id", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu", "power.draw",
        "ecc.errors.uncorrected.volatile.total", "clocks_throttle_reasons.active", "retired_pages.pending",
        "remapped_rows.pending", "remapped_rows.failure",
    ];

    public static string Arguments => $"--query-gpu={string.Join(',', Fields)} --format=csv,noheader,nounits";

    /// <summary>
    /// Parses the query output. A row with a readable index but the wrong shape is reported unhealthy;
    /// a line with no index (nvidia-smi's "Unable to determine the device handle…" for a GPU that fell
    /// off the bus) cannot be attributed and is left out, so the API sees that GPU as not reported.
    /// </summary>
    public static IReadOnlyList<GpuStatus> Parse(string csv)
    {
        var gpus = new List<GpuStatus>();
        foreach (var line in csv.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var cells = line.Split(',', StringSplitOptions.TrimEntries);
            if (!int.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) || gpus.Any(g => g.Telemetry.Index == index))
            {
                continue;
            }

            if (cells.Length != Fields.Length || Missing(cells[1]))
            {
                gpus.Add(new GpuStatus(new GpuTelemetry(index, null, false, null, null, null, null, null, null, null), null, ["unreadable row"]));
                continue;
            }

            var ecc = Count(cells[8]);
            var faults = new List<string>();
            if (ecc > 0)
            {
                faults.Add($"{ecc} uncorrectable ECC errors");
            }

            if (Mask(cells[9]) is { } throttle && (throttle & HardwareSlowdowns) != 0)
            {
                faults.Add($"hardware slowdown (clock event reasons {cells[9]})");
            }

            AddIfYes(faults, cells[10], "retired pages pending");
            AddIfYes(faults, cells[11], "row remapping pending");
            AddIfYes(faults, cells[12], "row remapping failed");
            var telemetry = new GpuTelemetry(
                index,
                cells[1],
                Healthy: faults.Count == 0,
                UtilizationPct: Number(cells[3]),
                MemoryUsedMiB: Number(cells[4]),
                MemoryTotalMiB: Number(cells[5]),
                TemperatureC: Number(cells[6]),
                PowerW: Number(cells[7]),
                EccUncorrected: ecc,
                Xid: null);
            gpus.Add(new GpuStatus(telemetry, Missing(cells[2]) ? null : KernelXids.NormalizeBusId(cells[2]), faults));
        }

        return gpus;
    }

    /// <summary>The heartbeat's GPUs: a GPU with a hardware XID since the last heartbeat reports it and is unhealthy.</summary>
    public static IReadOnlyList<GpuTelemetry> WithXids(IReadOnlyList<GpuStatus> gpus, IReadOnlyList<KernelXid> xids) =>
        gpus.Select(g => xids.LastOrDefault(x => x.BusId == g.BusId && KernelXids.HardwareFaults.Contains(x.Code)) is { BusId: not null } xid
                ? g.Telemetry with { Healthy = false, Xid = xid.Code }
                : g.Telemetry)
            .ToList();

    /// <summary>Runs the query; null when nvidia-smi is not installed.</summary>
    public static Task<string?> QueryAsync(TimeSpan timeout, CancellationToken ct) => Processes.RunAsync(Executable, Arguments, timeout, ct);

    private static void AddIfYes(List<string> faults, string cell, string fault)
    {
        if (cell.Equals("Yes", StringComparison.OrdinalIgnoreCase))
        {
            faults.Add(fault);
        }
    }

    private static bool Missing(string cell) =>
        cell.Length == 0 || cell.StartsWith('[') || cell.Equals("N/A", StringComparison.OrdinalIgnoreCase);

    private static double? Number(string cell) =>
        !Missing(cell) && double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long? Count(string cell) =>
        !Missing(cell) && long.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static ulong? Mask(string cell) =>
        !Missing(cell) && cell.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
        && ulong.TryParse(cell.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value) ? value : null;
}
