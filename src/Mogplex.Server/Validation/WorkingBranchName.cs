using System.Globalization;
using System.Text;

namespace Mogplex.Server.Validation;

/// <summary>
/// Builds the working branch name used when a run should create a branch and the client did not name one.
/// </summary>
/// <remarks>
/// <para>
/// Format: <c>mogplex/run/&lt;YYYY-MM-DD&gt;/&lt;slug&gt;</c>, optionally followed by <c>-&lt;6 hex&gt;</c> when that
/// branch already exists. The name is a pure function of its inputs so that retrying the same request yields the
/// same branch (idempotency): the caller passes the UTC day of the first request, not "today".
/// </para>
/// <para>
/// Slug rules: ASCII letters are lowercased and ASCII digits kept; every run of other characters (spaces,
/// punctuation, symbols, emoji, controls) becomes a single <c>-</c>; leading and trailing <c>-</c> are trimmed.
/// Non-ASCII letters, digits and combining marks are dropped without a separator (<c>café</c> becomes
/// <c>caf</c>, <c>日本語</c> disappears): transliteration would need tables that depend on language and
/// ICU data (the app runs with invariant globalization), and a slug is only a hint for humans, not an identifier.
/// The slug is cut to at most <see cref="MaxSlugLength"/> characters at the last word boundary that fits, or hard
/// cut when the first word alone is longer. An empty slug becomes <c>run</c>.
/// </para>
/// <para>Every result satisfies <see cref="BranchName.IsValid(string?)"/>.</para>
/// </remarks>
public static class WorkingBranchName
{
    /// <summary>Maximum slug length, excluding the optional collision suffix.</summary>
    public const int MaxSlugLength = 40;

    /// <summary>Length of the collision suffix taken from the request hash.</summary>
    public const int SuffixLength = 6;

    private const string Prefix = "mogplex/run/";
    private const string EmptySlug = "run";

    /// <summary>
    /// Generates the working branch name for a run.
    /// </summary>
    /// <param name="utcDay">The UTC calendar day of the first request for this run.</param>
    /// <param name="prompt">The run prompt; its first words form the slug.</param>
    /// <param name="collisionSuffix">
    /// <see langword="null"/> for the plain name; otherwise exactly <see cref="SuffixLength"/> lowercase hex
    /// characters (see <see cref="SuffixFromHash(string)"/>), appended as <c>-&lt;suffix&gt;</c> when the plain name
    /// already exists in the repository.
    /// </param>
    /// <returns>A branch name such as <c>mogplex/run/2025-03-07/fix-the-login-bug</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prompt"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="collisionSuffix"/> is not six lowercase hex characters.</exception>
    public static string Generate(DateOnly utcDay, string prompt, string? collisionSuffix = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);

        // Validated rather than trusted, so the "always a valid branch name" guarantee cannot be broken by a caller.
        if (collisionSuffix is not null && !IsLowerHex(collisionSuffix, SuffixLength))
        {
            throw new ArgumentException(
                $"Collision suffix must be exactly {SuffixLength} lowercase hex characters.", nameof(collisionSuffix));
        }

        // Capacity: prefix, "YYYY-MM-DD/", slug, "-" and suffix; the name never grows beyond this.
        var name = new StringBuilder(Prefix.Length + 11 + MaxSlugLength + 1 + SuffixLength);
        name.Append(Prefix)
            .Append(utcDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
            .Append('/')
            .Append(Slug(prompt));
        if (collisionSuffix is not null)
        {
            name.Append('-').Append(collisionSuffix);
        }

        return name.ToString();
    }

    /// <summary>
    /// Returns the collision suffix for a request: the first <see cref="SuffixLength"/> characters of its hash, lowercased.
    /// </summary>
    /// <param name="requestHashHex">The request hash as hex text (any case), at least six characters long.</param>
    /// <returns>Six lowercase hex characters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="requestHashHex"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The first six characters are missing or not hex.</exception>
    public static string SuffixFromHash(string requestHashHex)
    {
        ArgumentNullException.ThrowIfNull(requestHashHex);
        if (requestHashHex.Length < SuffixLength || !IsHex(requestHashHex.AsSpan(0, SuffixLength)))
        {
            throw new ArgumentException(
                $"Request hash must start with at least {SuffixLength} hex characters.", nameof(requestHashHex));
        }

        // ASCII-only lowering by hand: the input is known to be hex, and this avoids culture-sensitive casing.
        return string.Create(SuffixLength, requestHashHex, static (span, hash) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsAsciiLetterUpper(hash[i]) ? (char)(hash[i] | 0x20) : hash[i];
            }
        });
    }

    private static string Slug(string prompt)
    {
        // One character beyond the limit is collected so the cut can tell whether character 40 ends a word
        // (the 41st is '-') or sits inside one. Scanning stops there, so huge prompts cost nothing extra.
        Span<char> buffer = stackalloc char[MaxSlugLength + 1];
        var length = 0;
        var pendingSeparator = false;

        foreach (var rune in prompt.EnumerateRunes())
        {
            if (rune.IsAscii && Rune.IsLetterOrDigit(rune))
            {
                // The separator is emitted lazily, only before a following word, which trims both ends for free
                // and collapses runs of separators into one.
                if (pendingSeparator && length > 0)
                {
                    buffer[length++] = '-';
                    if (length == buffer.Length)
                    {
                        break;
                    }
                }

                pendingSeparator = false;
                var c = (char)rune.Value;
                buffer[length++] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
                if (length == buffer.Length)
                {
                    break;
                }
            }
            else if (!IsDroppedNonAscii(rune))
            {
                pendingSeparator = true;
            }
        }

        var slug = (ReadOnlySpan<char>)buffer[..length];
        if (slug.Length > MaxSlugLength)
        {
            var boundary = slug[..MaxSlugLength].LastIndexOf('-');
            slug = slug[MaxSlugLength] == '-' ? slug[..MaxSlugLength]
                : boundary > 0 ? slug[..boundary]
                : slug[..MaxSlugLength];
        }

        slug = slug.TrimEnd('-');
        return slug.IsEmpty ? EmptySlug : slug.ToString();
    }

    // Non-ASCII letters, digits and combining marks belong to words, so they are dropped in place instead of
    // splitting the word ("naïve" -> "nave", not "na-ve"). Lone surrogates arrive as U+FFFD, a symbol, and separate.
    private static bool IsDroppedNonAscii(Rune rune)
    {
        if (rune.IsAscii)
        {
            return false;
        }

        if (Rune.IsLetterOrDigit(rune))
        {
            return true;
        }

        var category = Rune.GetUnicodeCategory(rune);
        return category is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark;
    }

    private static bool IsHex(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLowerHex(string value, int length)
    {
        if (value.Length != length)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
