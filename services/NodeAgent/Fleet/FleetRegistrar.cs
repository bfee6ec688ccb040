using System.Net;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Fleet;

/// <summary>Registers nodes with the ops key, many at a time.</summary>
public static class FleetRegistrar
{
    /// <summary>Registers the nodes in <paramref name="topology"/>'s fabrics and racks (by default one fabric, the region, without racks).</summary>
    public static async Task<IReadOnlyList<FleetNode>> RegisterAsync(
        ApiClient api, string opsKey, IReadOnlyList<string> nodeIds, string sku, int gpuCount, string region, int concurrency, CancellationToken ct,
        FleetTopology? topology = null)
    {
        var nodes = new FleetNode[nodeIds.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, nodeIds.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                try
                {
                    (string? fabric, string? rack) = topology is null ? (null, null) : topology.Of(i, nodeIds.Count, region);
                    var registered = await api.RegisterNodeAsync(opsKey, new RegisterNode(nodeIds[i], sku, gpuCount, region, fabric, rack), token);
                    nodes[i] = new FleetNode(registered.NodeId, registered.AgentKey, registered.GpuCount, registered.Fabric, registered.Rack);
                }
                catch (ApiException ex) when (ex.Status == HttpStatusCode.Conflict)
                {
                    throw new InvalidOperationException(
                        $"Node '{nodeIds[i]}' is already registered and its agent key is shown only once: " +
                        "pass the nodes file written when it was registered, or choose another node prefix.", ex);
                }
            });
        return nodes;
    }

    /// <summary>Node ids that sort in order: prefix-01 … prefix-20.</summary>
    public static IReadOnlyList<string> NodeIds(string prefix, int count)
    {
        var width = Math.Max(2, count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        return Enumerable.Range(1, count).Select(i => $"{prefix}-{i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0')}").ToArray();
    }
}
