using System.Globalization;
using System.Text;
using System.Text.Json;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Agent;

/// <summary>
/// A node's unsent heartbeats on disk, so that an agent restart loses none: each heartbeat is appended
/// (and flushed to the device) to <c>{node}.jsonl</c> before it is queued, and the time of the last one
/// the API settled (acknowledged, or refused for good) is kept in <c>{node}.sent</c>; delivery is in
/// order, so everything after that time is still owed. At most <see cref="MaxPending"/> are kept, the
/// oldest going first (the API refuses heartbeats older than its late-arrival window anyway); the file
/// is emptied whenever nothing is owed and rewritten when it holds twice the bound.
/// </summary>
public sealed class HeartbeatJournal
{
    private readonly string journalPath;
    private readonly string sentPath;
    private readonly Lock gate = new();
    private DateTimeOffset sent;
    private int lines;
    private int pending;

    private HeartbeatJournal(string directory, string nodeId, int maxPending)
    {
        Directory.CreateDirectory(directory);
        journalPath = Path.Combine(directory, $"{nodeId}.jsonl");
        sentPath = Path.Combine(directory, $"{nodeId}.sent");
        MaxPending = maxPending;
    }

    public int MaxPending { get; }

    /// <summary>The heartbeats a previous run left unsent, oldest first.</summary>
    public IReadOnlyList<Heartbeat> Unsent { get; private set; } = [];

    public static HeartbeatJournal Open(string directory, string nodeId, int maxPending)
    {
        var journal = new HeartbeatJournal(directory, nodeId, maxPending);
        journal.sent = File.Exists(journal.sentPath)
            ? DateTimeOffset.Parse(File.ReadAllText(journal.sentPath).Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)
            : DateTimeOffset.MinValue;
        var (all, unsent) = journal.Read();
        journal.lines = all;
        journal.Unsent = unsent;
        journal.pending = unsent.Count;
        return journal;
    }

    /// <summary>Stores a heartbeat durably before it is sent.</summary>
    public void Append(Heartbeat heartbeat)
    {
        lock (gate)
        {
            using (var file = new FileStream(journalPath, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                file.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(heartbeat, ApiJson.Options) + "\n"));
                file.Flush(flushToDisk: true);
            }

            lines++;
            pending++;
            if (lines >= 2 * MaxPending)
            {
                Compact();
            }
        }
    }

    /// <summary>The API has settled this heartbeat (or it was dropped for the bound): it is no longer owed.</summary>
    public void Settled(Heartbeat heartbeat)
    {
        lock (gate)
        {
            if (heartbeat.ObservedAt > sent)
            {
                sent = heartbeat.ObservedAt;
                var temporary = sentPath + ".tmp";
                File.WriteAllText(temporary, ApiJson.Format(sent));
                File.Move(temporary, sentPath, overwrite: true);
            }

            pending = Math.Max(0, pending - 1);
            if (pending == 0)
            {
                File.WriteAllText(journalPath, "");
                lines = 0;
            }
        }
    }

    private void Compact()
    {
        var (_, unsent) = Read();
        var temporary = journalPath + ".tmp";
        File.WriteAllLines(temporary, unsent.Select(h => JsonSerializer.Serialize(h, ApiJson.Options)));
        File.Move(temporary, journalPath, overwrite: true);
        lines = unsent.Count;
    }

    /// <summary>How many lines the file holds, and the last <see cref="MaxPending"/> heartbeats after the sent mark; a torn last line is skipped.</summary>
    private (int Lines, IReadOnlyList<Heartbeat> Unsent) Read()
    {
        if (!File.Exists(journalPath))
        {
            return (0, []);
        }

        var all = File.ReadAllLines(journalPath).Where(l => l.Length > 0).ToList();
        var unsent = new List<Heartbeat>();
        foreach (var line in all)
        {
            try
            {
                if (JsonSerializer.Deserialize<Heartbeat>(line, ApiJson.Options) is { } heartbeat && heartbeat.ObservedAt > sent
                    && (unsent.Count == 0 || heartbeat.ObservedAt > unsent[^1].ObservedAt))
                {
                    unsent.Add(heartbeat);
                }
            }
            catch (JsonException)
            {
                // A line cut short by a crash mid-append: that heartbeat was never queued, so never acknowledged.
            }
        }

        return (all.Count, unsent.Count > MaxPending ? unsent[^MaxPending..] : unsent);
    }
}
