namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// <c>BaseUrl</c> means the same for every harness: the model API's root, with or without a final
/// <c>/v1</c>. Each harness gets the form its CLI wants: Codex's provider <c>base_url</c> ends with
/// <c>/v1</c>, Claude Code's <c>ANTHROPIC_BASE_URL</c> does not.
/// </summary>
public static class ModelEndpoint
{
    /// <summary>The root: trailing slashes and one final <c>/v1</c> removed.</summary>
    public static string Root(string baseUrl)
    {
        var url = baseUrl.Trim().TrimEnd('/');
        if (url.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            url = url[..^3].TrimEnd('/');
        }

        return url;
    }

    /// <summary>The root followed by <c>/v1</c>.</summary>
    public static string V1(string baseUrl) => Root(baseUrl) + "/v1";

    /// <summary>Host and port of the configured URL, else the vendor's host.</summary>
    public static string Host(string? baseUrl, string vendorHost) =>
        !string.IsNullOrWhiteSpace(baseUrl) && Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) ? uri.Authority : vendorHost;

    /// <summary>Whether <paramref name="baseUrl"/> is an absolute http(s) URL (checked at start).</summary>
    public static bool IsValid(string baseUrl) =>
        Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
}
