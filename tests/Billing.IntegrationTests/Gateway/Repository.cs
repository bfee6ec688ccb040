namespace Billing.IntegrationTests.Gateway;

/// <summary>The checkout the tests run from: the folder holding Billing.sln.</summary>
public static class Repository
{
    public static string Root { get; } = Find(AppContext.BaseDirectory);

    private static string Find(string from) =>
        File.Exists(Path.Combine(from, "Billing.sln")) ? from
        : Path.GetDirectoryName(from.TrimEnd(Path.DirectorySeparatorChar)) is { } parent ? Find(parent)
        : throw new InvalidOperationException("Billing.sln not found above the test binaries.");
}
