using System.Text;

namespace Billing.Contracts;

/// <summary>
/// Which ledger partition a tenant's usage and lease facts go to: a stable hash of the tenant id (FNV-1a
/// over its UTF-8 bytes, the same in every process and release, unlike <see cref="string.GetHashCode()"/>)
/// modulo the partition count, which the fleet and the ledger read from the same setting. One tenant,
/// one partition: its leases' streams and its shared rows (hours, revisions) have one writer at a time.
/// </summary>
public static class LedgerPartitions
{
    public const string CountSetting = "Billing:Ledger:Partitions";

    public const int DefaultCount = 4;

    public static int Of(string tenantId, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)(Fnv1a(tenantId) % (uint)count);
    }

    /// <summary>32-bit FNV-1a of the text's UTF-8 bytes.</summary>
    public static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
