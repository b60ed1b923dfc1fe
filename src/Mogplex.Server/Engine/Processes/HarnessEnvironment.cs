namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// The clean environment a harness starts with: PATH (plus the project's harness tools), HOME in
/// the sandbox, a UTF-8 locale. Nothing else of the server's environment leaks in; configured
/// harness variables (model keys) are added by the harness itself.
/// </summary>
public static class HarnessEnvironment
{
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
}
