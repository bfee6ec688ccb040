namespace Billing.NodeAgent.Run;

/// <summary>
/// Where <c>run</c> finds the node's agent key: a command line is visible to every user of the
/// machine (ps, /proc), so the key comes from the environment or from a file only.
/// </summary>
public static class AgentKey
{
    public const string Variable = "BILLING_AGENT_KEY";

    /// <summary>The key from <paramref name="file"/> when given, else from the variable; null when neither has one.</summary>
    public static string? Read(string? file, Func<string, string?> environment) =>
        (file is not null ? File.ReadAllText(file) : environment(Variable))?.Trim() is { Length: > 0 } key ? key : null;
}
