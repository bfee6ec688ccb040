using System.Globalization;

namespace Billing.NodeAgent.Fleet;

/// <summary>
/// Where simulated nodes sit: <see cref="Fabrics"/> high-bandwidth fabrics of consecutive nodes,
/// each cut into racks of <see cref="NodesPerRack"/> nodes.
/// </summary>
public sealed record FleetTopology(int Fabrics, int NodesPerRack)
{
    public static readonly FleetTopology Flat = new(1, int.MaxValue);

    /// <summary>The fabric and rack of node <paramref name="index"/> (0-based) of <paramref name="count"/>.</summary>
    public (string Fabric, string Rack) Of(int index, int count, string region)
    {
        var perFabric = (count + Fabrics - 1) / Fabrics;
        var fabric = $"{region}-ib-{(index / perFabric + 1).ToString(CultureInfo.InvariantCulture)}";
        return (fabric, $"{fabric}-rack-{((index % perFabric) / NodesPerRack + 1).ToString(CultureInfo.InvariantCulture)}");
    }
}
