using System.Text.RegularExpressions;

namespace Billing.IntegrationTests.Gateway;

/// <summary>The routes the README's "Public API" table lists (each <c>`METHOD /path`</c> in its first column).</summary>
public static partial class ReadmeApiTable
{
    public static IReadOnlyList<ApiRoute> Read()
    {
        var lines = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"));
        var table = lines.SkipWhile(l => !l.StartsWith("## Public API", StringComparison.Ordinal))
            .Skip(1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal));
        return table.SelectMany(row => Route().Matches(row.Split('|')[1]))
            .Select(m => ApiRoute.Of(m.Groups["method"].Value, m.Groups["path"].Value)).ToList();
    }

    [GeneratedRegex(@"`(?<method>GET|POST|PUT|PATCH|DELETE) (?<path>/[^`]*)`")]
    private static partial Regex Route();
}
