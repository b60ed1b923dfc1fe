using System.IO.Enumeration;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// The clean environment a harness starts with: PATH (plus the project's harness tools), HOME in
/// the sandbox, a UTF-8 locale. Nothing else of the server's environment leaks in; configured
/// harness variables are added by the harness itself, split by <see cref="Split"/> into plain ones
/// and secrets. Also the harness's state folders: made empty before it starts, removed when it ended.
/// </summary>
public static class HarnessEnvironment
{
    private static readonly string[] s_secretNameParts = ["KEY", "TOKEN", "SECRET", "PASSWORD"];

    public static Dictionary<string, string> Base(string home)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        var tools = ToolDirectories().Select(d => Path.Combine(d, "node_modules", ".bin")).Where(Directory.Exists);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = string.Join(':', tools.Append(path)),
            ["HOME"] = home,
            ["LANG"] = "C.UTF-8",
            ["TMPDIR"] = "/tmp",
        };
    }

    /// <summary>
    /// A harness's configured variables: <c>Environment</c> is plain, <c>Secrets</c> secret (and
    /// wins over a plain variable of the same name). For compatibility with configurations made
    /// before <c>Secrets</c> existed, a variable in <c>Environment</c> named like the API key
    /// variable or like a secret (<see cref="LooksSecret"/>) is a secret too (the server warns at start).
    /// </summary>
    public static (Dictionary<string, string> Plain, Dictionary<string, string> Secrets) Split(AgentHarnessOptions options)
    {
        var plain = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in options.Environment)
        {
            (LooksSecret(name, options.ApiKeyVariable) ? secrets : plain)[name] = value;
        }

        foreach (var (name, value) in options.Secrets)
        {
            plain.Remove(name);
            secrets[name] = value;
        }

        return (plain, secrets);
    }

    /// <summary>Names in <c>Environment</c> that are treated as secrets and belong in <c>Secrets</c>.</summary>
    public static IEnumerable<string> MisplacedSecrets(AgentHarnessOptions options) =>
        options.Environment.Keys.Where(n => LooksSecret(n, options.ApiKeyVariable) && !options.Secrets.ContainsKey(n)).Order(StringComparer.Ordinal);

    /// <summary>The API key variable, or a name containing KEY, TOKEN, SECRET or PASSWORD (any case).</summary>
    public static bool LooksSecret(string name, string apiKeyVariable) =>
        (apiKeyVariable.Length > 0 && string.Equals(name, apiKeyVariable, StringComparison.Ordinal))
        || s_secretNameParts.Any(p => name.Contains(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Makes <paramref name="path"/> (a folder inside <paramref name="sandboxDirectory"/>) an empty
    /// real folder: what a previous run of the sandbox left there goes. Links and files on the way
    /// (a previous harness could have put them there) are removed, never followed.
    /// </summary>
    public static void ResetStateDirectory(string sandboxDirectory, string path)
    {
        var current = Sandboxes.SandboxFolders.Ensure(sandboxDirectory, InsidePath(sandboxDirectory, path));
        Sandboxes.SandboxFolders.Delete(current);
        Directory.CreateDirectory(current);
    }

    /// <summary>
    /// Removes the harness's state folders once it has ended: they can hold its environment (Codex
    /// shell snapshots, session files). A folder reached through a link is left alone: the link is
    /// not followed, whatever it points at is not the server's to remove.
    /// </summary>
    public static void RemoveStateDirectories(string sandboxDirectory, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            var current = Path.GetFullPath(sandboxDirectory);
            var parts = InsideParts(sandboxDirectory, path);
            var reachable = true;
            for (var i = 0; i < parts.Length - 1 && reachable; i++)
            {
                current = Path.Combine(current, parts[i]);
                reachable = new DirectoryInfo(current) is { Exists: true, LinkTarget: null };
            }

            if (!reachable)
            {
                continue;
            }

            // A link in its place, or inside it, is removed, not followed.
            Sandboxes.SandboxFolders.Delete(Path.Combine(current, parts[^1]));
        }
    }

    /// <summary>
    /// Whether the harness's state folder <paramref name="path"/> (inside the sandbox) holds a file
    /// named like <paramref name="pattern"/>, at most <paramref name="depth"/> folders down: how a
    /// harness's saved conversation is found before a resume. Links are never followed (a link on
    /// the way means no), and at most <paramref name="maxEntries"/> entries are looked at, so a
    /// harness that filled its home cannot make the server walk it for long.
    /// </summary>
    public static bool HasStateFile(string sandboxDirectory, string path, string pattern, int depth, int maxEntries = MaxStateEntries)
    {
        var current = Path.GetFullPath(sandboxDirectory);
        foreach (var part in InsideParts(sandboxDirectory, path))
        {
            current = Path.Combine(current, part);
            if (new DirectoryInfo(current) is not { Exists: true, LinkTarget: null })
            {
                return false;
            }
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = depth,
            AttributesToSkip = FileAttributes.ReparsePoint,
            IgnoreInaccessible = true,
            MatchType = MatchType.Simple,
        };
        try
        {
            var seen = 0;
            foreach (var entry in new DirectoryInfo(current).EnumerateFileSystemInfos("*", options))
            {
                if (++seen > maxEntries)
                {
                    return false;
                }

                if (entry is FileInfo { LinkTarget: null } && FileSystemName.MatchesSimpleExpression(pattern, entry.Name))
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone or unreadable while we looked: nothing to resume from.
        }

        return false;
    }

    /// <summary>How many entries of a state folder <see cref="HasStateFile"/> looks at, at most.</summary>
    public const int MaxStateEntries = 10_000;

    /// <summary>Where the pinned harness CLIs are installed (<c>MOGPLEX_HARNESS_DIR</c>, else <c>.tools/harnesses</c> beside the binaries' repo).</summary>
    public static IEnumerable<string> ToolDirectories()
    {
        var configured = Environment.GetEnvironmentVariable("MOGPLEX_HARNESS_DIR");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            yield return Path.GetFullPath(configured);
            yield break;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "harnesses");
            if (Directory.Exists(candidate))
            {
                yield return candidate;
                yield break;
            }
        }
    }

    /// <summary><paramref name="path"/> in full, after checking it lies inside the sandbox.</summary>
    private static string InsidePath(string sandboxDirectory, string path)
    {
        InsideParts(sandboxDirectory, path);
        return Path.GetFullPath(path);
    }

    private static string[] InsideParts(string sandboxDirectory, string path)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(sandboxDirectory), Path.GetFullPath(path));
        var parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0 || parts.Contains("..") || Path.IsPathRooted(relative)
            ? throw new InvalidOperationException($"a harness state folder must lie inside its sandbox ({path})")
            : parts;
    }
}

/// <summary>Removes a harness's state folders when disposed (<see cref="HarnessEnvironment.RemoveStateDirectories"/>); a failure is logged, never thrown.</summary>
public sealed class HarnessStateRemoval(string sandboxDirectory, IReadOnlyList<string> paths, ILogger logger, Func<bool>? keep = null) : IDisposable
{
    /// <summary>Removes the state folders, unless <c>keep</c> says the conversation in them goes on in a later process.</summary>
    public void Dispose()
    {
        if (keep?.Invoke() == true)
        {
            return;
        }

        foreach (var path in paths)
        {
            try
            {
                HarnessEnvironment.RemoveStateDirectories(sandboxDirectory, [path]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                logger.LogWarning("Could not remove the harness state folder {Path}: {Error}", path, ex.Message);
            }
        }
    }
}
