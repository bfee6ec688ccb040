using Billing.Contracts;
using Billing.ServiceDefaults;

namespace Billing.Ledger.Usage;

/// <summary>
/// A tenant's usage of one SKU under one pricing model in one UTC hour, minute by minute, summed over
/// its leases: what rating reads, so rating a month costs tenants × SKUs × hours, not usage windows.
/// Written by the ledger in the transaction that stores the windows it sums.
/// </summary>
public sealed class RatableHour
{
    public const int Minutes = 60;

    public string Id { get; set; } = "";

    public string TenantId { get; set; } = "";

    public string Sku { get; set; } = "";

    public PricingModel Pricing { get; set; }

    public string Period { get; set; } = "";

    public DateTimeOffset HourStart { get; set; }

    /// <summary>The tenant-month's <see cref="UsageRevision"/> when the hour last changed: the newest of a tenant's hours says which revision a read of them shows.</summary>
    public long Revision { get; set; }

    /// <summary>Billed GPU-seconds per minute of the hour.</summary>
    public decimal[] GpuSeconds { get; set; } = new decimal[Minutes];

    /// <summary>
    /// The hour's billed GPU-seconds, the sum of its minutes: stored with the document (serialized, never read
    /// back) and in a column of its own (<see cref="UsageColumns"/>), so that usage reports sum hours in
    /// PostgreSQL without unpacking the minutes.
    /// </summary>
    public decimal TotalGpuSeconds => GpuSeconds.Sum();

    /// <summary>Leased GPU-seconds not billed (unhealthy GPU or node) per minute of the hour.</summary>
    public decimal[] UnbilledGpuSeconds { get; set; } = new decimal[Minutes];

    public static string IdFor(MeteredWindow window) =>
        $"{window.TenantId}|{window.Sku}|{window.Pricing}|{TimeBuckets.StartOfHour(window.WindowStart):yyyyMMddHH}";

    private static RatableHour For(MeteredWindow window)
    {
        var hour = TimeBuckets.StartOfHour(window.WindowStart);
        return new RatableHour
        {
            Id = IdFor(window),
            TenantId = window.TenantId,
            Sku = window.Sku,
            Pricing = window.Pricing,
            Period = BillingPeriod.Of(hour),
            HourStart = hour,
        };
    }

    /// <summary>Adds the window to its hour in <paramref name="hours"/> (by id), started if missing; returns the hour.</summary>
    public static RatableHour AddTo(IDictionary<string, RatableHour> hours, MeteredWindow window)
    {
        var id = IdFor(window);
        if (!hours.TryGetValue(id, out var hour))
        {
            hours[id] = hour = For(window);
        }

        hour.Add(window);
        return hour;
    }

    /// <summary>Adds a window of this tenant, SKU, pricing and hour (windows are whole UTC minutes).</summary>
    private void Add(MeteredWindow window)
    {
        var minute = (int)((window.WindowStart - HourStart).Ticks / TimeSpan.TicksPerMinute);
        GpuSeconds[minute] += window.GpuSeconds;
        UnbilledGpuSeconds[minute] += window.UnbilledGpuSeconds;
    }

    /// <summary>The minutes with usage (billed or not), as (start, billed, unbilled).</summary>
    public IEnumerable<(DateTimeOffset Start, decimal GpuSeconds, decimal UnbilledGpuSeconds)> UsedMinutes()
    {
        for (var minute = 0; minute < Minutes; minute++)
        {
            if (GpuSeconds[minute] != 0 || UnbilledGpuSeconds[minute] != 0)
            {
                yield return (HourStart.AddMinutes(minute), GpuSeconds[minute], UnbilledGpuSeconds[minute]);
            }
        }
    }
}
