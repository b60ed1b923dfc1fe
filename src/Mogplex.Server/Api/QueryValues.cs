using System.Globalization;

namespace Mogplex.Server.Api;

/// <summary>Query-string parsing with the contract's clamping rules.</summary>
public static class QueryValues
{
    /// <summary>
    /// <c>limit</c>: absent → default; a number is clamped to [min, max]; anything else is an error
    /// (a typo should not silently mean the default).
    /// </summary>
    public static bool TryLimit(HttpRequest request, int defaultValue, int max, out int limit)
    {
        var raw = request.Query["limit"].ToString();
        if (string.IsNullOrEmpty(raw))
        {
            limit = defaultValue;
            return true;
        }

        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            limit = (int)Math.Clamp(value, 1, max);
            return true;
        }

        // An integer too large for a long is still a number: clamp it like any other.
        if (System.Numerics.BigInteger.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
        {
            limit = big.Sign < 0 ? 1 : max;
            return true;
        }

        limit = 0;
        return false;
    }

    /// <summary>A query value, or null when absent or empty.</summary>
    public static string? Get(HttpRequest request, string name)
    {
        var raw = request.Query[name].ToString();
        return string.IsNullOrEmpty(raw) ? null : raw;
    }

    /// <summary>Ids are UUIDs; anything else cannot name a resource.</summary>
    public static bool TryId(string? raw, out string id)
    {
        if (raw is not null && raw.Length == 36 && Guid.TryParseExact(raw, "D", out var guid))
        {
            id = guid.ToString("D");
            return true;
        }

        id = "";
        return false;
    }
}
