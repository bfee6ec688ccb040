namespace Billing.ServiceDefaults.RateLimiting;

/// <summary>A token bucket: up to <see cref="TokenLimit"/> requests at once, refilled by <see cref="TokensPerPeriod"/> each <see cref="ReplenishmentPeriod"/>.</summary>
public sealed class TokenBucket
{
    public int TokenLimit { get; set; }

    public int TokensPerPeriod { get; set; }

    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Requests each key may make (<c>Billing:RateLimits:&lt;role&gt;</c>), one bucket per key; requests
/// without an accepted key share one bucket per remote address. The defaults leave room for every
/// client in this repository: a node heartbeats every 15 s (0.07/s) and catches up a buffered backlog
/// in order; the load tool gives each node key at most its share of the API's throughput (2,000 nodes
/// by default) and places and ends up to 2,000 leases with one tenant key at once.
/// </summary>
public sealed class RateLimits
{
    public const string Section = "Billing:RateLimits";

    public TokenBucket Ops { get; set; } = new() { TokenLimit = 10_000, TokensPerPeriod = 1_000 };

    public TokenBucket Finance { get; set; } = new() { TokenLimit = 1_000, TokensPerPeriod = 100 };

    public TokenBucket Tenant { get; set; } = new() { TokenLimit = 3_000, TokensPerPeriod = 100 };

    public TokenBucket Node { get; set; } = new() { TokenLimit = 1_000, TokensPerPeriod = 100 };

    /// <summary>A model gateway posts batches of up to 1,000 events: 100 a second is 100,000 events a second per key.</summary>
    public TokenBucket Ingest { get; set; } = new() { TokenLimit = 1_000, TokensPerPeriod = 100 };

    public TokenBucket Anonymous { get; set; } = new() { TokenLimit = 1_000, TokensPerPeriod = 100 };

    public TokenBucket For(string? role) => role switch
    {
        Access.Roles.Ops => Ops,
        Access.Roles.Finance => Finance,
        Access.Roles.Tenant => Tenant,
        Access.Roles.Node => Node,
        Access.Roles.Ingest => Ingest,
        _ => Anonymous,
    };
}
