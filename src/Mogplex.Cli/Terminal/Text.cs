using System.Globalization;
using System.Text;

namespace Mogplex.Cli.Terminal;

/// <summary>Makes server-provided text safe for one line of a terminal.</summary>
public static class Text
{
    /// <summary>
    /// Escapes control characters (newlines become <c>\n</c>, an ESC becomes <c>\x1b</c>), so a
    /// hostile or chatty message can neither break the one-line-per-item layout nor send escape
    /// sequences to the user's terminal.
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
            if (IsControl(c))
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
        foreach (var c in value)
        {
            switch (c)
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
                    if (IsControl(c))
                    {
                        builder.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.ToString();
    }

    private static bool IsControl(char c) => c < 0x20 || c is >= '\u007f' and <= '\u009f' || c is '\u2028' or '\u2029';
}
