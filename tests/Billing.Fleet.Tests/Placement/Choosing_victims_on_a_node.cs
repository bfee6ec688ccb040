using Billing.Fleet.Nodes;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Placement;

public sealed class Choosing_victims_on_a_node
{
    private const ulong AllHealthy = 0xFF;

    private static readonly Guid Four = new("00000000-0000-0000-0000-000000000004");
    private static readonly Guid TwoA = new("00000000-0000-0000-0000-0000000000a2");
    private static readonly Guid TwoB = new("00000000-0000-0000-0000-0000000000b2");

    [Fact]
    public void The_smallest_lease_that_makes_room_goes_rather_than_the_largest()
    {
        // GPUs 0-3 held by a 4-GPU spot lease, 4-5 and 6-7 by two 2-GPU ones; a 2-GPU request needs one of the small ones.
        var victims = NodeVictims.Choose(0, AllHealthy, [new(Four, 0x0F), new(TwoA, 0x30), new(TwoB, 0xC0)], gpuCount: 2);

        Assert.Equal([TwoA], victims);
    }

    [Fact]
    public void One_lease_goes_rather_than_two_taking_as_many_gpus()
    {
        var victims = NodeVictims.Choose(0, AllHealthy, [new(Four, 0x0F), new(TwoA, 0x30), new(TwoB, 0xC0)], gpuCount: 4);

        Assert.Equal([Four], victims);
    }

    [Fact]
    public void A_victims_failed_gpus_make_no_room_but_are_taken()
    {
        // GPU 4 failed: the lease on 4-5 frees one healthy GPU, so a 4-GPU request with one free needs both small leases.
        var victims = NodeVictims.Choose(0x01, AllHealthy & ~0x10UL, [new(TwoA, 0x30), new(TwoB, 0xC0)], gpuCount: 4);

        Assert.Equal([TwoA, TwoB], victims!.Order());
    }

    [Fact]
    public void Free_gpus_that_suffice_take_no_victim_and_too_few_spot_gpus_refuse()
    {
        Assert.Empty(NodeVictims.Choose(0x0F, AllHealthy, [new(TwoA, 0x30)], gpuCount: 4)!);
        Assert.Null(NodeVictims.Choose(0x01, AllHealthy, [new(TwoA, 0x30)], gpuCount: 4));
    }

    /// <summary>Checked against every set of victims on an 8-GPU node split into random spot leases, a random GPU or two failed.</summary>
    [Property(MaxTest = 500)]
    public bool No_set_of_victims_makes_room_taking_fewer_gpus(int seed)
    {
        var random = new Random(seed);
        var healthy = AllHealthy & ~(random.Next(3) == 0 ? 1UL << random.Next(8) : 0);
        var free = 0UL;
        var leases = new List<PreemptableLease>();
        for (var gpu = 0; gpu < 8;)
        {
            var size = Math.Min(8 - gpu, random.Next(1, 4));
            var mask = ((1UL << size) - 1) << gpu;
            if (random.Next(4) == 0)
            {
                free |= mask;
            }
            else
            {
                leases.Add(new PreemptableLease(Guid.NewGuid(), mask));
            }

            gpu += size;
        }

        var wanted = random.Next(1, 9);
        var chosen = NodeVictims.Choose(free, healthy, leases, wanted);
        int? cheapest = null;
        for (var subset = 0; subset < 1 << leases.Count; subset++)
        {
            var victims = leases.Where((_, i) => (subset & (1 << i)) != 0).ToList();
            var room = victims.Aggregate(free, (m, l) => m | l.Mask) & healthy;
            if (NodeHealth.Count(room) >= wanted)
            {
                var taken = victims.Sum(l => NodeHealth.Count(l.Mask));
                cheapest = cheapest is null ? taken : Math.Min(cheapest.Value, taken);
            }
        }

        if (chosen is null)
        {
            return cheapest is null;
        }

        var chosenLeases = leases.Where(l => chosen.Contains(l.LeaseId)).ToList();
        var chosenRoom = chosenLeases.Aggregate(free, (m, l) => m | l.Mask) & healthy;
        return chosen.Count == chosenLeases.Count
            && NodeHealth.Count(chosenRoom) >= wanted
            && chosenLeases.Sum(l => NodeHealth.Count(l.Mask)) == cheapest;
    }
}
