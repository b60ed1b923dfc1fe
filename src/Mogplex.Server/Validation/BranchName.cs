namespace Mogplex.Server.Validation;

/// <summary>
/// Validates git branch names supplied by clients before they reach git.
/// </summary>
/// <remarks>
/// <para>
/// The accepted language is a strict subset of what <c>git check-ref-format --branch</c> accepts, so a
/// name that passes here can be handed to git unchanged. Git is deliberately not spawned: validation runs in
/// the request path, where a process per request is too slow and adds a failure mode. Instead every rule git
/// applies to <c>refs/heads/&lt;name&gt;</c> is re-implemented below, and the test suite cross-checks the
/// implementation against the real git binary.
/// </para>
/// <para>
/// Rules, in addition to git's own: only <c>[A-Za-z0-9_./-]</c> is allowed (this alone excludes whitespace,
/// control characters, <c>@</c>, <c>{</c>, <c>* : ? [ \ ^ ~</c> and non-ASCII), and at most
/// <see cref="MaxLength"/> characters.
/// </para>
/// </remarks>
public static class BranchName
{
    /// <summary>
    /// Maximum accepted length in characters, which equals bytes because only ASCII is accepted.
    /// </summary>
    /// <remarks>
    /// Git itself has no limit, but loose refs are stored as files under <c>.git/refs/heads</c>, and 255 bytes is
    /// the usual file-name limit (NAME_MAX on ext4, NTFS, APFS). Capping the whole name keeps every component
    /// within it and keeps branch names sane in logs and URLs.
    /// </remarks>
    public const int MaxLength = 255;

    // Git refuses a ref component ending in ".lock" because it uses "<ref>.lock" files to update refs atomically.
    private const string LockSuffix = ".lock";

    /// <summary>
    /// Returns whether <paramref name="name"/> is an acceptable branch name (the part after <c>refs/heads/</c>).
    /// </summary>
    /// <param name="name">The candidate branch name; <see langword="null"/> is invalid.</param>
    /// <returns><see langword="true"/> when the name satisfies both the project rules and git's ref rules.</returns>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        // "HEAD" would shadow the symbolic ref of the same name; git rejects it as a branch name.
        if (name == "HEAD")
        {
            return false;
        }

        // A leading '-' makes the name look like an option to git commands (argument injection).
        if (name[0] == '-')
        {
            return false;
        }

        // Git rejects a ref ending in '.'. A trailing '/' is caught below as an empty final component.
        if (name[^1] == '.')
        {
            return false;
        }

        // Single linear pass, no regex: the input is attacker-controlled, so the cost must stay O(n).
        var componentStart = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] == '/')
            {
                if (!IsValidComponent(name.AsSpan(componentStart, i - componentStart)))
                {
                    return false;
                }

                componentStart = i + 1;
                continue;
            }

            var c = name[i];
            if (!IsAllowedChar(c))
            {
                return false;
            }

            // Git reserves ".." for revision ranges (a..b), so it may not appear anywhere in a ref.
            if (c == '.' && i > 0 && name[i - 1] == '.')
            {
                return false;
            }
        }

        return true;
    }

    // Git's per-component rules: components are separated by '/', so an empty one means a leading, trailing or
    // doubled slash; a leading '.' would create hidden files under .git/refs; ".lock" clashes with lock files.
    private static bool IsValidComponent(ReadOnlySpan<char> component) =>
        component.Length > 0
        && component[0] != '.'
        && !component.EndsWith(LockSuffix, StringComparison.Ordinal);

    // An allow-list rather than git's deny-list: anything not obviously harmless (shell metacharacters,
    // reflog syntax "@{", Unicode look-alikes) is refused up front.
    private static bool IsAllowedChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '/' or '-';
}
