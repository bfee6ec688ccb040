using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Billing.IntegrationTests.Telemetry;

/// <summary>One read of <c>/metrics</c> (Prometheus text format): each sample's name, labels and value.</summary>
public sealed partial class Scrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> samples;

    private Scrape(List<(string, Dictionary<string, string>, double)> samples) => this.samples = samples;

    public static async Task<Scrape> ReadAsync(HttpClient ops)
    {
        var response = await ops.GetAsync(new Uri("/metrics", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics answered {response.StatusCode}: {text}");
        return new Scrape(text.Split('\n').Select(l => Sample().Match(l)).Where(m => m.Success).Select(m => (
            m.Groups["name"].Value,
            Label().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value),
            double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))).ToList());
    }

    /// <summary>The sum of the samples of <paramref name="name"/> that carry every label given (0 when there is none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).Sum(s => s.Value);

    public bool Has(string name) => samples.Any(s => s.Name == name);

    /// <summary>The names scraped that contain <paramref name="part"/>: what a failed <see cref="Has"/> found instead.</summary>
    public string Like(string part) => string.Join(", ", samples.Select(s => s.Name).Where(n => n.Contains(part, StringComparison.Ordinal)).Distinct());

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
