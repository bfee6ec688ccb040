using System.CommandLine;
using System.CommandLine.Parsing;
using Billing.OpsCli.Api;

namespace Billing.OpsCli.Cli;

/// <summary><c>--api</c> and <c>--key</c>: given before or after the command, defaulting to the environment.</summary>
public static class GlobalOptions
{
    public const string ApiVariable = "BILLING_API";
    public const string KeyVariable = "BILLING_OPS_KEY";
    public const string DefaultApi = "http://127.0.0.1:5080";

    public static readonly Option<Uri> Api = new("--api")
    {
        Description = $"Base URL of the platform API; when not given, ${ApiVariable} or {DefaultApi}",
        HelpName = "URL",
        Recursive = true,
        CustomParser = result => ParseBaseUrl(result.Tokens.Single().Value, result),
        DefaultValueFactory = result => ParseBaseUrl(Environment.GetEnvironmentVariable(ApiVariable) is { Length: > 0 } url ? url : DefaultApi, result)!,
    };

    public static readonly Option<string> Key = new("--key")
    {
        // No default value factory: help would print the key from the environment.
        Description = $"The ops key, sent as Authorization: Bearer; when not given, ${KeyVariable}",
        HelpName = "KEY",
        Recursive = true,
    };

    /// <summary>A client for the options given; a missing key is the caller's mistake, said before any request.</summary>
    public static OpsApiClient Client(ParseResult parse)
    {
        var key = parse.GetValue(Key) ?? Environment.GetEnvironmentVariable(KeyVariable);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new UsageException($"No ops key: pass --key KEY or set {KeyVariable}.");
        }

        return OpsApiClient.Create(parse.GetValue(Api)!, key.Trim());
    }

    private static Uri? ParseBaseUrl(string text, ArgumentResult result)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            result.AddError($"'{text}' is not an http(s) URL.");
            return null;
        }

        // Relative request paths resolve below the base only when it ends with a slash.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }
}

/// <summary>The command line asked for something that cannot be done as given (exit code 1, no request made).</summary>
public sealed class UsageException(string message) : Exception(message);
