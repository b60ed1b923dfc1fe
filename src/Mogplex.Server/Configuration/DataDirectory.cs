namespace Mogplex.Server.Configuration;

/// <summary>Resolves and prepares the data folder (mode 0700): database, mirrors, sandboxes.</summary>
public static class DataDirectory
{
    /// <summary><c>--data-dir</c>, else <c>MOGPLEXD_DATA_DIR</c>, else <c>$MOGPLEX_HOME/server</c>, else <c>~/.mogplex/server</c>.</summary>
    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return Path.GetFullPath(option);
        }

        var env = Environment.GetEnvironmentVariable("MOGPLEXD_DATA_DIR");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return Path.GetFullPath(env);
        }

        var home = Environment.GetEnvironmentVariable("MOGPLEX_HOME");
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".mogplex");
        }

        return Path.GetFullPath(Path.Combine(home, "server"));
    }

    /// <summary>Creates the folder and its subfolders with owner-only permissions.</summary>
    public static void Prepare(string dataDir)
    {
        foreach (var dir in new[] { dataDir, Path.Combine(dataDir, "repos"), Path.Combine(dataDir, "sandboxes") })
        {
            Directory.CreateDirectory(dir);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    public static string DatabasePath(string dataDir) => Path.Combine(dataDir, "mogplex.db");

    public static string MirrorPath(string dataDir, string repoId) => Path.Combine(dataDir, "repos", repoId + ".git");
}
