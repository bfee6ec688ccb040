using Xunit.Sdk;

namespace Billing.IntegrationTests;

/// <summary>The polling helper every asynchronous assertion rests on: it must fail, not return, when time runs out.</summary>
public sealed class Waiting_for_a_value
{
    [Fact]
    public async Task Fails_naming_what_it_read_last_when_the_time_is_up()
    {
        var reads = 0;

        var failure = await Assert.ThrowsAsync<FailException>(() => PlatformClient.EventuallyAsync(() => Task.FromResult(++reads), 0, seconds: 1));

        Assert.True(reads > 1, $"read {reads} times");
        Assert.Equal($"() => Task.FromResult(++reads) gave {reads} after 1 s; expected 0.", failure.Message);
    }
}
