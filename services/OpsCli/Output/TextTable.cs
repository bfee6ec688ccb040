using System.Text;

namespace Billing.OpsCli.Output;

/// <summary>Plain-text tables: columns padded to their widest cell, two spaces apart, a rule under the header.</summary>
public static class TextTable
{
    /// <param name="rightAligned">Per column, true to align right (numbers); shorter than the headers means left for the rest.</param>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyList<bool>? rightAligned = null)
    {
        var all = rows.ToList();
        if (all.FirstOrDefault(r => r.Count != headers.Count) is { } bad)
        {
            throw new ArgumentException($"A row has {bad.Count} cells for {headers.Count} columns.", nameof(rows));
        }

        var widths = headers.Select((h, i) => all.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        AppendRow(text, headers, widths, rightAligned);
        AppendRow(text, widths.Select(w => new string('-', w)).ToList(), widths, rightAligned);
        foreach (var row in all)
        {
            AppendRow(text, row, widths, rightAligned);
        }

        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths, IReadOnlyList<bool>? rightAligned)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            var right = rightAligned is not null && i < rightAligned.Count && rightAligned[i];
            line.Append(i == 0 ? "" : "  ").Append(right ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }

        text.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
