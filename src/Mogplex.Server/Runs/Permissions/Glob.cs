namespace Mogplex.Server.Runs.Permissions;

/// <summary>
/// Shell-style globs for permission rules: <c>*</c> matches any run of characters, <c>/</c>
/// included (<c>**</c> is the same), <c>?</c> exactly one character, everything else itself.
/// Matching is iterative with one backtrack point, so it is linear in practice and never
/// exponential, whatever pattern a client sends.
/// </summary>
public static class Glob
{
    public static bool IsMatch(string pattern, string text)
    {
        int p = 0, t = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                while (p < pattern.Length && pattern[p] == '*')
                {
                    p++;
                }

                starP = p;
                starT = t;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (starP >= 0)
            {
                // Let the last star take one more character and try again from there.
                p = starP;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
