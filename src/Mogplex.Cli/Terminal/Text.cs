using System.Buffers;
using System.Globalization;
using System.Text;

namespace Mogplex.Cli.Terminal;

/// <summary>Makes server-provided text safe for one line of a terminal.</summary>
public static class Text
{
    /// <summary>
    /// Escapes what would break the line or hide from the reader: control characters (newlines
    /// become <c>\n</c>, an ESC becomes <c>\x1b</c>), the line and paragraph separators, and every
    /// format character (Unicode category Cf: the bidirectional overrides, embeddings, isolates and
    /// marks such as U+202E, the zero-width space and joiners, U+FEFF, the invisible tag
    /// characters), which become <c>\u202e</c> or <c>\U000e0041</c>; an unpaired surrogate becomes
    /// <c>\ud800</c>. So a hostile or chatty message can neither break the one-line-per-item layout,
    /// send escape sequences to the user's terminal, nor reorder or hide what the user reads.
    /// </summary>
    public static string OneLine(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var clean = true;
        foreach (var c in value)
        {
            if (MayNeedEscape(c))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var consumed) != OperationStatus.Done)
            {
                // An unpaired surrogate: no character at all.
                Escape(builder, value[i]);
                i++;
                continue;
            }

            switch (rune.Value)
            {
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (IsHidden(rune))
                    {
                        Escape(builder, rune.Value);
                    }
                    else
                    {
                        builder.Append(value, i, consumed);
                    }

                    break;
            }

            i += consumed;
        }

        return builder.ToString();
    }

    private static void Escape(StringBuilder builder, int value) =>
        builder.Append(value switch
        {
            <= 0xff => string.Create(CultureInfo.InvariantCulture, $"\\x{value:x2}"),
            <= 0xffff => string.Create(CultureInfo.InvariantCulture, $"\\u{value:x4}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"\\U{value:x8}"),
        });

    /// <summary>A character that is, or may start (a surrogate), one <see cref="OneLine"/> escapes.</summary>
    private static bool MayNeedEscape(char c) => c < 0x20 || c >= 0x7f && (char.IsSurrogate(c) || IsHidden(new Rune(c)));

    private static bool IsHidden(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>
    /// Several lines for the terminal (a patch): each line as <see cref="OneLine"/> would show it,
    /// tabs kept; newlines stay newlines.
    /// </summary>
    public static string Printable(string value) =>
        string.Join('\n', value.Split('\n').Select(line => string.Join('\t', line.Split('\t').Select(OneLine))));
}
