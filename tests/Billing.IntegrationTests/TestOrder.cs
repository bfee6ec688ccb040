using System.Globalization;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: TestCollectionOrderer("Billing.IntegrationTests.TestOrder", "Billing.IntegrationTests")]
[assembly: TestCaseOrderer("Billing.IntegrationTests.TestOrder", "Billing.IntegrationTests")]

namespace Billing.IntegrationTests;

/// <summary>
/// The order classes (one collection each) and their tests run in, from <c>BILLING_TEST_ORDER</c>:
/// <c>name</c> (the default), <c>reverse</c>, or <c>shuffle:SEED</c>. The suite must pass in every
/// one; running it reversed and shuffled is how a test that leans on another is caught. Classes run
/// one at a time, so the order is exactly this one (and two hosts never share the two cores).
/// </summary>
public sealed class TestOrder(IMessageSink diagnostics) : ITestCollectionOrderer, ITestCaseOrderer
{
    private const string Variable = "BILLING_TEST_ORDER";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var ordered = Arrange(testCollections, c => c.DisplayName);
        diagnostics.OnMessage(new DiagnosticMessage($"{Variable}={Setting}: {string.Join(", ", ordered.Select(c => c.DisplayName.Split('.')[^1]))}"));
        return ordered;
    }

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase => Arrange(testCases, t => t.DisplayName);

    private static string Setting => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : "name";

    private static List<T> Arrange<T>(IEnumerable<T> items, Func<T, string> name)
    {
        var byName = items.OrderBy(name, StringComparer.Ordinal).ToList();
        switch (Setting.Split(':'))
        {
            case ["name"]:
                return byName;
            case ["reverse"]:
                byName.Reverse();
                return byName;
            case ["shuffle", var seed]:
                var shuffled = byName.ToArray();
                new Random(int.Parse(seed, CultureInfo.InvariantCulture)).Shuffle(shuffled);
                return [.. shuffled];
            default:
                throw new InvalidOperationException($"{Variable} is 'name', 'reverse' or 'shuffle:SEED', not '{Setting}'.");
        }
    }
}
