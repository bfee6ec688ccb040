using Billing.Fleet.Heartbeats;

namespace Billing.Fleet.Tests.Heartbeats;

public sealed class Validating_a_heartbeat
{
    private static readonly PostHeartbeatValidator Validator = new();

    private static GpuTelemetry Gpu(int index) => new(index, $"GPU-{index}", true, 93.5, 40960, 81920, 61, 512.5, 0, 0);

    private static PostHeartbeat Heartbeat(params GpuTelemetry?[] gpus) => new(new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero), gpus);

    private static string[] Fields(PostHeartbeat heartbeat) => [.. Validator.Validate(heartbeat).Errors.Select(e => e.PropertyName).Distinct().Order(StringComparer.Ordinal)];

    [Fact]
    public void Eight_healthy_gpus_with_telemetry_pass() =>
        Assert.Empty(Fields(Heartbeat([.. Enumerable.Range(0, 8).Select(Gpu)])));

    [Fact]
    public void Each_bad_reading_is_named_by_its_gpu_and_field()
    {
        var bad = Gpu(1) with
        {
            Healthy = null,
            Uuid = "GPU\u202Eevil",
            UtilizationPct = -5,
            MemoryUsedMiB = 90000,
            MemoryTotalMiB = 80000,
            TemperatureC = 1000,
            PowerW = double.PositiveInfinity,
            EccUncorrected = -1,
            Xid = -1,
        };

        string[] expected =
        [
            "Gpus[1].EccUncorrected", "Gpus[1].Healthy", "Gpus[1].MemoryUsedMiB", "Gpus[1].PowerW", "Gpus[1].TemperatureC",
            "Gpus[1].UtilizationPct", "Gpus[1].Uuid", "Gpus[1].Xid", "Gpus[2]", "Gpus[3].Index",
        ];
        Assert.Equal(expected, Fields(Heartbeat(Gpu(0), bad, null, Gpu(64))));
    }

    [Fact]
    public void A_gpu_named_twice_is_refused_once() =>
        Assert.Equal(["Gpus"], Fields(Heartbeat(Gpu(3), Gpu(3))));

    [Fact]
    public void No_gpus_and_no_time_are_refused() =>
        Assert.Equal(["Gpus", "ObservedAt"], Fields(new PostHeartbeat(null, [])));

    [Fact]
    public void More_gpus_than_a_node_can_have_are_refused() =>
        Assert.Equal(["Gpus"], Fields(Heartbeat([.. Enumerable.Range(0, 65).Select(i => Gpu(i % 64))])));
}
