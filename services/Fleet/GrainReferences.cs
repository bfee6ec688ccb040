namespace Billing.Fleet;

/// <summary>
/// Grain references for the heartbeat path. <c>IGrainFactory.GetGrain&lt;T&gt;(key)</c> resolves the
/// interface's grain type by reading its attributes on every call (in the heartbeat profile, a twentieth
/// of the allocations and their CPU); here that is resolved once per interface, and each reference is
/// built from the grain id, as Orleans itself does after the lookup.
/// </summary>
public static class GrainReferences
{
    public static TGrain Reference<TGrain>(this IGrainFactory grains, string key)
        where TGrain : IGrainWithStringKey
    {
        var (type, contract) = Resolved<TGrain>.Types ??= TypesOf(grains.GetGrain<TGrain>(key));
        return (TGrain)grains.GetGrain(GrainId.Create(type, IdSpan.Create(key)), contract);
    }

    public static TGrain Reference<TGrain>(this IGrainFactory grains, Guid key)
        where TGrain : IGrainWithGuidKey
    {
        var (type, contract) = Resolved<TGrain>.Types ??= TypesOf(grains.GetGrain<TGrain>(key));
        return (TGrain)grains.GetGrain(GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(key)), contract);
    }

    private static (GrainType, GrainInterfaceType) TypesOf(object reference) =>
        reference is GrainReference resolved
            ? (resolved.GrainId.Type, resolved.InterfaceType)
            : throw new InvalidOperationException($"{reference.GetType()} is not a grain reference.");

    /// <summary>Per interface; the same in every silo of the cluster (grain types are named from the classes).</summary>
    private static class Resolved<TGrain>
    {
        public static (GrainType Type, GrainInterfaceType Contract)? Types;
    }
}
