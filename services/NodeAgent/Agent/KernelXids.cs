using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Billing.NodeAgent.Agent;

/// <summary>An XID error the NVIDIA driver logged to the kernel log: when (seconds since boot), on which GPU (PCI bus id), which code.</summary>
public readonly record struct KernelXid(double Uptime, string BusId, int Code);

/// <summary>
/// XID errors have no nvidia-smi query field: the driver writes them to the kernel log
/// (<c>NVRM: Xid (PCI:0000:3b:00): 79, pid=…, GPU has fallen off the bus.</c>), which <c>dmesg</c> reads.
/// Only the codes that mean the hardware failed make a GPU unhealthy; most others (13, 31, 43, 45:
/// a program's own fault) say nothing about the GPU, and a tenant could raise them at will.
/// </summary>
public static partial class KernelXids
{
    /// <summary>
    /// 48 double-bit ECC, 61/62 internal micro-controller, 64 row remapping failure, 74 NVLink, 79 fallen
    /// off the bus, 92 high single-bit ECC rate, 95 uncontained ECC, 119/120 GSP.
    /// </summary>
    public static readonly FrozenSet<int> HardwareFaults = FrozenSet.ToFrozenSet([48, 61, 62, 64, 74, 79, 92, 95, 119, 120]);

    /// <summary>The XID lines of <c>dmesg</c>'s output (lines with its uptime stamp), in order.</summary>
    public static IReadOnlyList<KernelXid> Parse(string dmesg) =>
        XidLine().Matches(dmesg)
            .Select(m => new KernelXid(
                double.Parse(m.Groups["uptime"].Value, CultureInfo.InvariantCulture),
                NormalizeBusId(m.Groups["bus"].Value),
                int.Parse(m.Groups["code"].Value, CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>
    /// One spelling for nvidia-smi's <c>00000000:3B:00.0</c> and the kernel's <c>0000:3b:00</c>:
    /// domain, bus and device as lower-case hex without padding.
    /// </summary>
    public static string NormalizeBusId(string busId)
    {
        var parts = busId.Split('.')[0].Split(':');
        return string.Join(':', parts.Select(p => ulong.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v.ToString("x", CultureInfo.InvariantCulture) : p.ToLowerInvariant()));
    }

    [GeneratedRegex(@"^\[\s*(?<uptime>\d+\.\d+)\]\s+NVRM: Xid \(PCI:(?<bus>[0-9a-fA-F]+:[0-9a-fA-F]+:[0-9a-fA-F]+)\): (?<code>\d+)", RegexOptions.Multiline)]
    private static partial Regex XidLine();
}
