using System.Globalization;
using System.Net;
using System.Text;
using Billing.OpsCli.Api;

namespace Billing.OpsCli.Output;

/// <summary>What each command prints, from what the API answered: pure functions of their arguments, no console.</summary>
public static class OpsFormat
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string StreamTable(IReadOnlyList<StoredEvent> events) =>
        TextTable.Render(
            ["SEQUENCE", "VERSION", "TYPE", "TIMESTAMP"],
            events.Select(e => (IReadOnlyList<string>)[Number(e.Sequence), Number(e.Version), e.Type, Timestamp(e.Timestamp)]),
            [true, true, false, false]);

    public static string Rebuilt(ProjectionRebuilt rebuilt) =>
        $"{rebuilt.Name} rebuilt in {rebuilt.Seconds.ToString("0.###", Invariant)} s\n";

    /// <summary>The verdict, the four hashes (saying which pair disagrees) and, when lines differ, a table of them.</summary>
    public static string Verification(VerificationReport report)
    {
        var replayMatches = report.StoredHash == report.ReplayedHash;
        var ratingMatches = report.BilledHash == report.RecomputedHash;
        var text = new StringBuilder()
            .Append(Invariant, $"invoice {report.InvoiceId} ({report.Status}): {(report.Equal ? "EQUAL" : "DIFFERENT")}\n")
            .Append(Invariant, $"  stored      {report.StoredHash}\n")
            .Append(Invariant, $"  replayed    {Hash(report.ReplayedHash)}{(replayMatches ? "" : "  ≠ stored: the stream does not replay to the stored invoice")}\n")
            .Append(Invariant, $"  billed      {report.BilledHash}\n")
            .Append(Invariant, $"  recomputed  {Hash(report.RecomputedHash)}{(ratingMatches ? "" : "  ≠ billed: re-rating the streams gives other lines")}\n");
        if (report.Differences.Count > 0)
        {
            text.Append('\n').Append(DifferencesTable(report.Differences));
        }

        return text.ToString();
    }

    public static string DifferencesTable(IReadOnlyList<LineDifference> differences) =>
        TextTable.Render(
            ["SKU", "CHARGE", "BILLED GPU-S", "RECOMPUTED GPU-S", "BILLED AMOUNT", "RECOMPUTED AMOUNT"],
            differences.Select(d => (IReadOnlyList<string>)
            [
                d.Sku, d.Charge, Decimal(d.BilledGpuSeconds), Decimal(d.RecomputedGpuSeconds), Decimal(d.BilledAmount), Decimal(d.RecomputedAmount),
            ]),
            [false, false, true, true, true, true]);

    public static string ReplayStarted(ReplayStarted started) =>
        $"replay {started.ReplayId} to {started.Consumer}: {Number(started.Total)} events to publish\n";

    /// <summary>One line: where a replay stands, or how it ended.</summary>
    public static string Replay(ReplayStatus status)
    {
        var state = status switch
        {
            { Error: not null } => $"FAILED: {status.Error}",
            { Done: true } => "done",
            _ => "running",
        };
        return $"replay {status.ReplayId} to {status.Consumer}: {Number(status.Published)}/{Number(status.Total)} published, {state}\n";
    }

    public static string JobRan(JobRan ran) => $"{ran.JobId} ran at {Timestamp(ran.RanAt)}\n";

    /// <summary>An error answer: status and title, then the detail and each field's messages, one a line.</summary>
    public static string Problem(string request, int status, Problem? problem, string body)
    {
        var text = new StringBuilder();
        var title = problem?.Title ?? ((HttpStatusCode)status).ToString();
        text.Append(Invariant, $"error: {status} {title} ({request})\n");
        if (problem?.Detail is { Length: > 0 } detail)
        {
            text.Append(Invariant, $"  {detail}\n");
        }

        foreach (var (field, messages) in problem?.Errors ?? new Dictionary<string, string[]>())
        {
            foreach (var message in messages)
            {
                text.Append(Invariant, $"  {field}: {message}\n");
            }
        }

        if (problem is null && body.Trim() is { Length: > 0 } raw)
        {
            text.Append(Invariant, $"  {(raw.Length > 500 ? raw[..500] + "…" : raw)}\n");
        }

        if (status is 401 or 403)
        {
            text.Append("  (is --key, or $BILLING_OPS_KEY, an ops key of this platform?)\n");
        }

        return text.ToString();
    }

    public static string Timestamp(DateTimeOffset at) => ApiJson.Format(at);

    public static string Elapsed(TimeSpan elapsed) =>
        elapsed.TotalHours >= 1 ? elapsed.ToString(@"h\:mm\:ss", Invariant) : elapsed.ToString(@"mm\:ss", Invariant);

    private static string Number(long value) => value.ToString(Invariant);

    private static string Decimal(decimal value) => value.ToString(Invariant);

    private static string Hash(string hash) => hash.Length > 0 ? hash : "(none)";
}
