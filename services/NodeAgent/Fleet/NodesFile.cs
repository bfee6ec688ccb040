using System.Text.Json;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Fleet;

/// <summary>
/// A JSON array of <c>{nodeId, agentKey, gpuCount}</c>: the keys of nodes registered earlier, so a
/// rerun can post for them instead of registering them again (which the API refuses with 409).
/// </summary>
public static class NodesFile
{
    public static async Task<IReadOnlyList<FleetNode>> ReadAsync(FileInfo file, CancellationToken ct)
    {
        await using var stream = file.OpenRead();
        var nodes = await JsonSerializer.DeserializeAsync<List<FleetNode>>(stream, ApiJson.Options, ct)
            ?? throw new InvalidDataException($"{file.FullName} holds no nodes.");
        var invalid = nodes.FirstOrDefault(n => string.IsNullOrWhiteSpace(n.NodeId) || string.IsNullOrWhiteSpace(n.AgentKey) || n.GpuCount < 1);
        if (invalid is not null || nodes.Count == 0)
        {
            throw new InvalidDataException($"{file.FullName}: every entry needs nodeId, agentKey and gpuCount ≥ 1, and there must be at least one.");
        }

        return nodes;
    }

    public static async Task WriteAsync(FileInfo file, IReadOnlyList<FleetNode> nodes, CancellationToken ct)
    {
        await using var stream = file.Create();
        await JsonSerializer.SerializeAsync(stream, nodes, new JsonSerializerOptions(ApiJson.Options) { WriteIndented = true }, ct);
    }
}
