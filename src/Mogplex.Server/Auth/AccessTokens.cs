using System.Security.Cryptography;
using System.Text;

namespace Mogplex.Server.Auth;

/// <summary>Personal access tokens: <c>mog_</c> + 32 base62 characters from a CSPRNG, stored as SHA-256 hex.</summary>
public static class AccessTokens
{
    public const string Prefix = "mog_";
    public const int RandomLength = 32;
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A new token. <see cref="RandomNumberGenerator.GetItems{T}(ReadOnlySpan{T}, int)"/> is unbiased.</summary>
    public static string Generate() => Prefix + new string(RandomNumberGenerator.GetItems<char>(Base62, RandomLength));

    /// <summary>True when the text has the token's exact shape (checked before any database lookup).</summary>
    public static bool IsWellFormed(string? token)
    {
        if (token is null || token.Length != Prefix.Length + RandomLength || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var ch in token.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(ch))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>SHA-256 of the whole token, lowercase hex: the only form ever stored.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A short display prefix that identifies a token without revealing it.</summary>
    public static string DisplayPrefix(string token) => token[..(Prefix.Length + 4)];
}
