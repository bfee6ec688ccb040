namespace Billing.NodeAgent.Models;

/// <summary>One usage report of a model gateway: a request's input or output tokens for a tenant.</summary>
public sealed record TokenEvent(string Id, string TenantId, string Model, string TokenType, long Tokens, DateTimeOffset At)
{
    /// <summary>The price book's name of the event's group: its values in the order of their names.</summary>
    public string Group => $"model={Model},tokenType={TokenType}";
}

/// <summary>
/// The traffic a simulated model gateway reports, the same for the same seed: per tick, requests of
/// each tenant to a few models (the first tenant heavy on the tiered model), each an input and an
/// output event. Events a few seconds old, as a gateway reports them after the response.
/// </summary>
public sealed class TokenTraffic(int seed)
{
    /// <summary>Per tenant in turn: models with their weights and token ranges (input, output).</summary>
    private static readonly (string Model, int Weight, int InputMin, int InputMax, int OutputMin, int OutputMax)[][] Mixes =
    [
        [("big-chat", 6, 20_000, 60_000, 500, 4_000), ("small-chat", 3, 500, 4_000, 100, 1_500), ("embed-small", 1, 100, 2_000, 0, 0)],
        [("small-chat", 6, 500, 8_000, 100, 2_000), ("big-chat", 2, 1_000, 6_000, 200, 2_000)],
        [("embed-small", 5, 200, 3_000, 0, 0), ("small-chat", 5, 300, 5_000, 100, 1_000)],
    ];

    private readonly Random random = new(seed);
    private long next;

    public IReadOnlyList<TokenEvent> Tick(IReadOnlyList<string> tenantIds, int requestsPerTenant, DateTimeOffset now)
    {
        var events = new List<TokenEvent>();
        for (var t = 0; t < tenantIds.Count; t++)
        {
            var mix = Mixes[t % Mixes.Length];
            for (var r = 0; r < requestsPerTenant; r++)
            {
                var (model, _, inMin, inMax, outMin, outMax) = Pick(mix);
                var at = now.AddMilliseconds(-random.Next(0, 5_000));
                events.Add(Event(tenantIds[t], model, "input", random.Next(inMin, inMax + 1), at));
                if (outMax > 0)
                {
                    events.Add(Event(tenantIds[t], model, "output", random.Next(outMin, outMax + 1), at));
                }
            }
        }

        return events;
    }

    /// <summary>Whether to do something this time, with the given chance: the same sequence for the same seed.</summary>
    public bool Chance(double probability) => random.NextDouble() < probability;

    public TokenEvent Event(string tenantId, string model, string tokenType, long tokens, DateTimeOffset at) =>
        new($"req-{Interlocked.Increment(ref next):D8}-{tokenType}", tenantId, model, tokenType, tokens,
            new DateTimeOffset(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero));

    private (string, int, int, int, int, int) Pick((string Model, int Weight, int, int, int, int)[] mix)
    {
        var roll = random.Next(mix.Sum(m => m.Weight));
        foreach (var m in mix)
        {
            if ((roll -= m.Weight) < 0)
            {
                return m;
            }
        }

        return mix[^1];
    }
}
