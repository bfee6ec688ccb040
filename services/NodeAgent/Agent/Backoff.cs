namespace Billing.NodeAgent.Agent;

/// <summary>Exponential backoff with jitter, capped so that a recovered API is noticed within seconds.</summary>
public static class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(5);

    public static TimeSpan Delay(int attempt)
    {
        var exponential = First.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16));
        var capped = Math.Min(exponential, Cap.TotalMilliseconds);
        // Jitter keeps a fleet that lost the API together from hammering it in lockstep when it returns.
        return TimeSpan.FromMilliseconds(capped * (0.8 + Random.Shared.NextDouble() * 0.4));
    }
}
