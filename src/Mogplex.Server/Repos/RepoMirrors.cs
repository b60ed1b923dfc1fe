using Mogplex.Server.Configuration;

namespace Mogplex.Server.Repos;

/// <summary>Questions about a linked repo's bare mirror under the data folder.</summary>
public sealed class RepoMirrors(ServeSettings settings)
{
    public string PathOf(string repoId) => DataDirectory.MirrorPath(settings.DataDir, repoId);

    /// <summary>
    /// Whether <c>refs/heads/&lt;branch&gt;</c> exists in the mirror. One local git call, made only
    /// when a working branch name is generated (createBranch without a name).
    /// </summary>
    public async Task<bool> BranchExistsAsync(string repoId, string branch, CancellationToken ct)
    {
        var mirror = PathOf(repoId);
        if (!Directory.Exists(mirror))
        {
            return false;
        }

        var result = await Git.RunAsync(["--git-dir", mirror, "rev-parse", "--verify", "--quiet", "refs/heads/" + branch], null, ct);
        return result.ExitCode == 0;
    }
}
