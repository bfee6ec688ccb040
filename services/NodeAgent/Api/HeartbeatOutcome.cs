namespace Billing.NodeAgent.Api;

public enum HeartbeatOutcome
{
    /// <summary>202: recorded.</summary>
    Accepted,

    /// <summary>200 duplicate: the API already had it, so it counts as acknowledged.</summary>
    Duplicate,

    /// <summary>409: older than the node's last accepted heartbeat. Dropped.</summary>
    OutOfOrder,

    /// <summary>422: too old or too far in the future. Dropped.</summary>
    OutOfRange,

    /// <summary>400 or another client error: the API will never take it. Dropped.</summary>
    Invalid,

    /// <summary>401, 403 or 404: this node cannot post at all.</summary>
    Fatal,

    /// <summary>5xx, 408, 429, a timeout or no connection: keep it and retry.</summary>
    Unavailable,
}

public sealed record HeartbeatResult(HeartbeatOutcome Outcome, int? StatusCode, string? Detail);
