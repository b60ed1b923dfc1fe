using System.Text;

namespace Mogplex.Server.Validation;

/// <summary>
/// Validates and normalizes a client-supplied directory that is relative to the repository root.
/// </summary>
/// <remarks>
/// <para>
/// The result is later combined with the repository path, so anything that could escape the repository
/// (absolute paths, <c>..</c> segments, encoded forms of either) is rejected instead of being repaired:
/// a request that tries it is either buggy or hostile, and silently fixing it would hide that.
/// </para>
/// <para>Rejected, and why:</para>
/// <list type="bullet">
/// <item><description>More than <see cref="MaxLength"/> characters: bounds work and log size.</description></item>
/// <item><description>Control characters (NUL included): NUL truncates paths in native APIs; others corrupt logs and terminals.</description></item>
/// <item><description>Unpaired UTF-16 surrogates: they have no UTF-8 form, so the file name would silently change when encoded.</description></item>
/// <item><description>A leading <c>/</c>: an absolute path.</description></item>
/// <item><description><c>\</c>: not a separator on Linux, but a traversal vector (<c>..\..</c>) wherever a Windows API or tool sees the path.</description></item>
/// <item><description><c>:</c>: a drive-letter root (<c>C:x</c>) or an NTFS alternate data stream on Windows.</description></item>
/// <item><description>Any <c>%</c>: see below.</description></item>
/// <item><description>A segment made only of dots other than <c>.</c> itself (<c>..</c>, <c>...</c>): <c>..</c> is traversal, and Windows trims trailing dots, so longer runs can alias it.</description></item>
/// </list>
/// <para>
/// Percent signs: the value is not URL-decoded here, but some other layer (a proxy, a tool, a later decode)
/// might decode it, once or repeatedly. Rather than trying to recognize every encoded form of <c>.</c>, <c>/</c>,
/// <c>\</c> and NUL (<c>%2e</c>, double-encoded <c>%252e</c>, overlong UTF-8 <c>%c0%ae</c>, IIS-style <c>%u002e</c>),
/// any <c>%</c> is rejected. This is the simplest rule that is safe against all of them; the cost is that a
/// directory whose name contains <c>%</c> cannot be selected, which is rare enough to accept.
/// </para>
/// <para>
/// Normalization: <c>.</c> segments and empty segments (from repeated, leading <c>./</c> or trailing <c>/</c>)
/// are dropped and the rest are joined with <c>/</c>. Empty input, <c>.</c>, <c>./</c> and <see langword="null"/>
/// all mean the repository root, which normalizes to the empty string.
/// </para>
/// </remarks>
public static class RootDirectory
{
    /// <summary>Maximum accepted input length in UTF-16 characters.</summary>
    public const int MaxLength = 1000;

    /// <summary>
    /// Validates <paramref name="input"/> and, when it is acceptable, returns its normalized form.
    /// </summary>
    /// <param name="input">
    /// A directory relative to the repository root, using <c>/</c> as separator; <see langword="null"/> means the
    /// field was omitted and selects the repository root.
    /// </param>
    /// <param name="normalized">
    /// The normalized relative path (<c>""</c> for the repository root, otherwise segments joined by single
    /// <c>/</c> with no leading or trailing slash); <c>""</c> when the input is rejected.
    /// </param>
    /// <returns><see langword="true"/> when the input is acceptable.</returns>
    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = string.Empty;
        if (input is null)
        {
            return true;
        }

        if (input.Length > MaxLength || !HasOnlyAllowedChars(input))
        {
            return false;
        }

        // Checked on the raw input: any leading '/' (including "//x", which POSIX may treat specially) is absolute.
        if (input.Length > 0 && input[0] == '/')
        {
            return false;
        }

        var result = new StringBuilder(input.Length);
        foreach (var range in input.AsSpan().Split('/'))
        {
            var segment = input.AsSpan(range);
            if (segment.IsEmpty || segment is ".")
            {
                continue;
            }

            if (IsOnlyDots(segment))
            {
                return false;
            }

            if (result.Length > 0)
            {
                result.Append('/');
            }

            result.Append(segment);
        }

        normalized = result.ToString();
        return true;
    }

    private static bool HasOnlyAllowedChars(string input)
    {
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (char.IsControl(c) || c is '\\' or ':' or '%')
            {
                return false;
            }

            if (char.IsHighSurrogate(c))
            {
                // A valid pair is a single supplementary character (e.g. an emoji); skip its low half.
                if (i + 1 < input.Length && char.IsLowSurrogate(input[i + 1]))
                {
                    i++;
                    continue;
                }

                return false;
            }

            if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    // Called only for segments other than "." (already skipped), so a match is "..", "..." and so on.
    private static bool IsOnlyDots(ReadOnlySpan<char> segment) => !segment.ContainsAnyExcept('.');
}
