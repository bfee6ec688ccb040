using Billing.NodeAgent.Agent;

namespace Billing.NodeAgent.Tests;

public sealed class Reading_xid_errors_from_the_kernel_log
{
    private static readonly string Dmesg = File.ReadAllText(Path.Combine("TestData", "dmesg-xid.txt"));

    [Fact]
    public void Xid_lines_give_the_uptime_the_gpu_and_the_code()
    {
        var xids = KernelXids.Parse(Dmesg);

        Assert.Equal(
            [new(1021.354217, "0:18:0", 13), new(1021.354402, "0:18:0", 13), new(2048.119883, "0:9a:0", 79), new(3001.512345, "0:ab:0", 94), new(3602.004410, "0:3a:0", 48)],
            xids);
    }

    [Fact]
    public void Each_xid_is_handed_out_once_and_those_logged_before_the_agent_started_not_at_all()
    {
        var xids = KernelXids.Parse(Dmesg);
        var watcher = new XidWatcher(TimeSpan.FromSeconds(1));

        Assert.Empty(watcher.Advance(xids.Take(3).ToList()));
        Assert.Equal(xids.Skip(3), watcher.Advance(xids));
        Assert.Empty(watcher.Advance(xids));
    }

    [Fact]
    public void Nvidia_smi_and_the_kernel_spell_a_bus_id_alike_once_normalized()
    {
        Assert.Equal(KernelXids.NormalizeBusId("00000000:9A:00.0"), KernelXids.NormalizeBusId("0000:9a:00"));
        Assert.NotEqual(KernelXids.NormalizeBusId("00000000:9A:00.0"), KernelXids.NormalizeBusId("0000:9b:00"));
    }

    [Fact]
    public void Hardware_xids_make_their_gpu_unhealthy_and_program_faults_do_not()
    {
        var gpus = NvidiaSmi.WithXids(NvidiaSmi.Parse(File.ReadAllText(Path.Combine("TestData", "h100-healthy.csv"))), KernelXids.Parse(Dmesg));

        // 13 (a program's graphics exception) on GPU 0 and 94 (contained ECC) on GPU 5 leave them healthy.
        Assert.Equal([2, 4], gpus.Where(g => !g.Healthy).Select(g => g.Index));
        Assert.Equal((int?)48, gpus[2].Xid);
        Assert.Equal((int?)79, gpus[4].Xid);
        Assert.All(gpus.Where(g => g.Healthy), g => Assert.Null(g.Xid));
    }
}
