using System.CommandLine;
using System.CommandLine.Parsing;

namespace Billing.NodeAgent.Cli;

/// <summary>Options several commands share. Each call makes a new option: a command owns its options.</summary>
public static class CliOptions
{
    public const string DefaultSku = "H100-SXM-80GB";

    public static Option<Uri> Api() => new("--api")
    {
        Description = "Base URL of the platform API, e.g. http://127.0.0.1:5080",
        Required = true,
        CustomParser = ParseBaseUrl,
    };

    public static Option<string> OpsKey(bool required) => new("--ops-key")
    {
        Description = "The ops key (Authorization: Bearer) used to register nodes and create tenants",
        Required = required,
    };

    public static Option<TimeSpan> Duration(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} (e.g. 500ms, 15s, 2m, 1h)",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = ParseDuration,
    };

    public static Option<int> Count(string name, int defaultValue, string description, int max = int.MaxValue, int min = 1)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is var value && (value < min || value > max))
            {
                result.AddError($"{name} must be between {min} and {max}.");
            }
        });
        return option;
    }

    public static Option<double> Probability(string name, string description)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => 0.0 };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is < 0 or > 1)
            {
                result.AddError($"{name} must be between 0 and 1.");
            }
        });
        return option;
    }

    /// <summary>How many fabrics the registered nodes are split into, in blocks of consecutive nodes.</summary>
    public static Option<int> Fabrics() => Count("--fabrics", 1, "High-bandwidth fabrics the registered nodes are split into (named <region>-ib-1, …)", max: 1_000);

    /// <summary>How many nodes of a fabric share a rack.</summary>
    public static Option<int> RackSize() => Count("--rack-size", 4, "Nodes per rack within a fabric", max: 10_000);

    public static Option<string> Sku() => new("--sku") { Description = "GPU SKU of the nodes", DefaultValueFactory = _ => DefaultSku };

    private static Uri? ParseBaseUrl(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            result.AddError($"'{text}' is not an http(s) URL.");
            return null;
        }

        // Relative request paths resolve below the base only when it ends with a slash.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (Durations.TryParse(text, out var value))
        {
            return value;
        }

        result.AddError($"'{text}' is not a duration: use e.g. 500ms, 15s, 2m, 1h.");
        return default;
    }
}
