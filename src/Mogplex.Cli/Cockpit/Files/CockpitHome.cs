namespace Mogplex.Cli.Cockpit.Files;

/// <summary>
/// Where the cockpit keeps its files (cockpit.md, Files): the home folder (<c>MOGPLEX_HOME</c>,
/// else <c>~/.mogplex</c>) and, when the cockpit was started in a git repository, that
/// repository's slug (<c>projects/&lt;slug&gt;/</c>), found when first needed (after the first
/// paint). Nothing is ever read from the repository itself.
/// </summary>
public sealed class CockpitHome(string home, Func<string?> projectSlug)
{
    private readonly Lazy<string?> _slug = new(projectSlug);

    public string Home => home;

    /// <summary>The token comes from <c>MOGPLEX_API_KEY</c> (a sign-out cannot unset it).</summary>
    public bool TokenFromEnvironment { get; init; }

    /// <summary>The repository's slug (its folder name and a hash of its path); null outside a repository.</summary>
    public string? ProjectSlug => _slug.Value;

    public string GlobalPermissions => PermissionsFiles.GlobalPath(home);

    /// <summary>This session's log (null when it cannot be made).</summary>
    public SessionLog? OpenLog(TimeProvider time) => SessionLog.Open(home, time);

    /// <summary>The permissions of the files as they are now (read again at every run start).</summary>
    public ResolvedPermissions Permissions() => PermissionsFiles.Load(home, ProjectSlug);

    /// <summary>A repository's folder name (made safe) and the first 12 hex digits of the SHA-256 of its path.</summary>
    public static string Slug(string repo)
    {
        var name = new string([.. Path.GetFileName(repo).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(repo)))[..12];
        return $"{(name.Length == 0 ? "repo" : name)}-{hash}";
    }

    /// <summary>The slug of the git repository <paramref name="directory"/> is in (<c>git rev-parse --show-toplevel</c>); null outside one.</summary>
    public static string? SlugOf(string directory)
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["rev-parse", "--show-toplevel"])
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var top = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && top.Length > 0 ? Slug(top) : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
