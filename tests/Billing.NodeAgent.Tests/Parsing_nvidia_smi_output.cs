using Billing.NodeAgent.Agent;

namespace Billing.NodeAgent.Tests;

public sealed class Parsing_nvidia_smi_output
{
    private static IReadOnlyList<GpuStatus> Parse(string file) => NvidiaSmi.Parse(File.ReadAllText(Path.Combine("TestData", file)));

    [Fact]
    public void A_healthy_h100_node_reports_every_gpu_healthy_with_its_readings()
    {
        var gpus = Parse("h100-healthy.csv");

        Assert.Equal(Enumerable.Range(0, 8), gpus.Select(g => g.Telemetry.Index));
        Assert.All(gpus, g => Assert.True(g.Telemetry.Healthy, string.Join("; ", g.Faults)));
        var first = gpus[0].Telemetry;
        Assert.Equal(("GPU-5c1f8a3e-6f0d-2b7c-9e41-0a3d2f6b8c11", 98.0, 71234.0, 81559.0, 61.0, 652.31, 0L),
            (first.Uuid, first.UtilizationPct, first.MemoryUsedMiB, first.MemoryTotalMiB, first.TemperatureC, first.PowerW, first.EccUncorrected));
        Assert.Equal("0:18:0", gpus[0].BusId);
    }

    [Fact]
    public void Row_remapping_ecc_and_hardware_slowdown_make_a_gpu_unhealthy_and_software_limits_do_not()
    {
        var gpus = Parse("h100-faults.csv").ToDictionary(g => g.Telemetry.Index);

        Assert.Equal([2, 3, 5], gpus.Values.Where(g => !g.Telemetry.Healthy).Select(g => g.Telemetry.Index));
        Assert.Equal(["row remapping pending"], gpus[2].Faults);
        Assert.Equal(["2 uncorrectable ECC errors", "row remapping failed"], gpus[3].Faults);
        Assert.Equal(2L, gpus[3].Telemetry.EccUncorrected);
        Assert.StartsWith("hardware slowdown", Assert.Single(gpus[5].Faults));
        Assert.True(gpus[6].Telemetry.Healthy);   // software power cap and software thermal limit: the GPU is fine
    }

    [Fact]
    public void Unreadable_values_are_null_and_a_gpu_off_the_bus_is_not_reported()
    {
        var gpus = Parse("h100-faults.csv");

        var unknown = Assert.Single(gpus, g => g.Telemetry.Index == 1).Telemetry;
        Assert.Equal((null, null, null, 81559.0), (unknown.UtilizationPct, unknown.MemoryUsedMiB, unknown.PowerW, unknown.MemoryTotalMiB));
        Assert.DoesNotContain(gpus, g => g.Telemetry.Index == 7);
    }

    [Fact]
    public void Retired_pages_pending_on_a_v100_make_it_unhealthy_and_unsupported_fields_tell_nothing()
    {
        var gpus = Parse("v100-retired-pages.csv");

        Assert.Equal([true, false, true], gpus.Select(g => g.Telemetry.Healthy));
        Assert.Equal(["hardware slowdown (clock event reasons 0x0000000000000008)", "retired pages pending"], gpus[1].Faults);
    }

    [Fact]
    public void A_row_of_the_wrong_shape_is_an_unhealthy_gpu()
    {
        var gpu = Assert.Single(NvidiaSmi.Parse("3, GPU-1a7e6c22, 00000000:5D:00.0, 98"));

        Assert.Equal((3, false), (gpu.Telemetry.Index, gpu.Telemetry.Healthy));
    }
}
