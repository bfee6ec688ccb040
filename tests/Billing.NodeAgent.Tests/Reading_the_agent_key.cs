using Billing.NodeAgent.Run;

namespace Billing.NodeAgent.Tests;

public sealed class Reading_the_agent_key
{
    [Fact]
    public void A_key_file_wins_and_is_trimmed()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "agent-key-from-file\n");

        Assert.Equal("agent-key-from-file", AgentKey.Read(file, _ => "from-env"));
    }

    [Fact]
    public void Without_a_file_the_key_comes_from_the_environment_or_not_at_all()
    {
        Assert.Equal("from-env", AgentKey.Read(null, name => name == AgentKey.Variable ? "from-env" : null));
        Assert.Null(AgentKey.Read(null, _ => "  "));
        Assert.Null(AgentKey.Read(null, _ => null));
    }
}
