using Billing.NodeAgent.Agent;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Tests;

public sealed class Buffering_heartbeats_on_disk : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"agent-state-{Guid.NewGuid():N}");

    public static Heartbeat Beat(int i) =>
        new(T0.AddSeconds(15 * i), [new GpuTelemetry(0, "GPU-0", true, 50, 1000, 81559, 60, 300, 0, null)]);

    [Fact]
    public void What_is_not_settled_is_read_back_in_order()
    {
        var journal = HeartbeatJournal.Open(directory, "node-a", maxPending: 100);
        for (var i = 0; i < 5; i++)
        {
            journal.Append(Beat(i));
        }

        journal.Settled(Beat(0));
        journal.Settled(Beat(1));

        Assert.Equal([Beat(2).ObservedAt, Beat(3).ObservedAt, Beat(4).ObservedAt], HeartbeatJournal.Open(directory, "node-a", 100).Unsent.Select(h => h.ObservedAt));
        Assert.Equal(Beat(2).Gpus[0], HeartbeatJournal.Open(directory, "node-a", 100).Unsent[0].Gpus[0]);
    }

    [Fact]
    public void The_file_is_emptied_once_nothing_is_owed_and_a_torn_last_line_is_skipped()
    {
        var journal = HeartbeatJournal.Open(directory, "node-b", maxPending: 100);
        journal.Append(Beat(0));
        journal.Settled(Beat(0));
        Assert.Equal(0, new FileInfo(Path.Combine(directory, "node-b.jsonl")).Length);

        journal.Append(Beat(1));
        File.AppendAllText(Path.Combine(directory, "node-b.jsonl"), "{\"observedAt\":\"2026-11-28T09:");

        Assert.Equal([Beat(1).ObservedAt], HeartbeatJournal.Open(directory, "node-b", 100).Unsent.Select(h => h.ObservedAt));
    }

    [Fact]
    public void It_keeps_at_most_its_bound_the_newest_and_its_file_stays_bounded()
    {
        var journal = HeartbeatJournal.Open(directory, "node-c", maxPending: 10);
        for (var i = 0; i < 35; i++)
        {
            journal.Append(Beat(i));
        }

        Assert.Equal(Enumerable.Range(25, 10).Select(i => Beat(i).ObservedAt), HeartbeatJournal.Open(directory, "node-c", 10).Unsent.Select(h => h.ObservedAt));
        Assert.True(File.ReadAllLines(Path.Combine(directory, "node-c.jsonl")).Length < 20);
    }

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
