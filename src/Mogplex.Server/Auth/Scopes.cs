namespace Mogplex.Server.Auth;

/// <summary>Token scopes. <c>write</c> does not imply <c>read</c>.</summary>
public static class Scopes
{
    public const string Read = "read";
    public const string Write = "write";

    public static readonly IReadOnlyList<string> All = [Read, Write];

    /// <summary>Parses <c>read,write</c>; null when empty or unknown.</summary>
    public static IReadOnlyList<string>? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        return parts.Count > 0 && parts.All(p => All.Contains(p)) ? parts : null;
    }

    /// <summary>GETs need read; everything else changes state and needs write.</summary>
    public static string RequiredFor(string httpMethod) =>
        HttpMethods.IsGet(httpMethod) || HttpMethods.IsHead(httpMethod) ? Read : Write;
}
