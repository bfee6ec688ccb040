using System.Globalization;

namespace Billing.NodeAgent.Cli;

/// <summary>Durations as people type them: 500ms, 15s, 2m, 23h, 1d, or a TimeSpan such as 00:01:30.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        text = text.Trim();
        (string Suffix, double Ticks)[] units =
        [
            ("ms", TimeSpan.TicksPerMillisecond), ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute),
            ("h", TimeSpan.TicksPerHour), ("d", TimeSpan.TicksPerDay),
        ];
        foreach (var (suffix, ticks) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) &&
                amount >= 0)
            {
                value = TimeSpan.FromTicks((long)(amount * ticks));
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    public static string Format(TimeSpan value) => value switch
    {
        { TotalHours: >= 1 } => $"{value.TotalHours:0.##}h",
        { TotalMinutes: >= 1 } => $"{value.TotalMinutes:0.##}m",
        _ => $"{value.TotalSeconds:0.###}s",
    };
}
