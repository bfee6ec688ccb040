namespace Billing.ServiceDefaults.GpuEnergy;

/// <summary>
/// Sums that add exactly across GPUs, leases and time: the healthy GPU-seconds measured, the energy over them in
/// joules (watt-seconds: a sum of milliseconds × watts ÷ 1000 stays exact in decimal), and utilization integrated
/// over the GPU-seconds that reported it. Rounded only when shown, so a total is the same however it was added up.
/// </summary>
public sealed record EnergySum(decimal GpuSeconds, decimal Joules, decimal UtilizationPctGpuSeconds, decimal UtilizationGpuSeconds)
{
    private const decimal JoulesPerWattHour = 3600m;

    public static readonly EnergySum Zero = new(0, 0, 0, 0);

    /// <summary>The energy as shown: Wh to three decimals (milliwatt-hours), rounded half away from zero.</summary>
    public decimal EnergyWh => decimal.Round(Joules / JoulesPerWattHour, 3, MidpointRounding.AwayFromZero);

    /// <summary>Mean utilization (%) over the GPU-seconds that reported one, to three decimals; null when none did.</summary>
    public double? MeanUtilizationPct =>
        UtilizationGpuSeconds == 0 ? null : Math.Round((double)(UtilizationPctGpuSeconds / UtilizationGpuSeconds), 3);

    public EnergySum Add(EnergySum other) => new(
        GpuSeconds + other.GpuSeconds,
        Joules + other.Joules,
        UtilizationPctGpuSeconds + other.UtilizationPctGpuSeconds,
        UtilizationGpuSeconds + other.UtilizationGpuSeconds);

    /// <summary>The part <paramref name="part"/> of <paramref name="whole"/> of these sums (a mean stays the same).</summary>
    public EnergySum Share(decimal part, decimal whole) => new(
        GpuSeconds * part / whole, Joules * part / whole, UtilizationPctGpuSeconds * part / whole, UtilizationGpuSeconds * part / whole);

    public static EnergySum Total(IEnumerable<EnergySum> sums) => sums.Aggregate(Zero, (total, sum) => total.Add(sum));
}
