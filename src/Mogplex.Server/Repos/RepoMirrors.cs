using System.Collections.Concurrent;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Repos;

/// <summary>A linked repo's bare mirror under this node's data folder.</summary>
public sealed class RepoMirrors(ServeSettings settings)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _creating = new(StringComparer.Ordinal);

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

    /// <summary>The commit <c>refs/heads/&lt;branch&gt;</c> of a mirror points at, or null when there is no such branch.</summary>
    public static async Task<string?> TipAsync(string mirror, string branch, CancellationToken ct)
    {
        var result = await Git.RunAsync(["--git-dir", mirror, "rev-parse", "--verify", "--quiet", $"refs/heads/{branch}^{{commit}}"], null, ct);
        return result.ExitCode == 0 ? result.StdOut.Trim() : null;
    }

    /// <summary>
    /// The mirror of a repo, created on this node when missing: `mogplexd repo add` mirrors on the
    /// machine it runs on, and every other node sharing the database (PostgreSQL) mirrors the
    /// repo's source the first time it runs one of its runs. Cloned beside the final path and
    /// renamed into place, so a half-made mirror is never used.
    /// </summary>
    /// <exception cref="InvalidOperationException">The record's source would be read by git as an option (delivery pushes to it too).</exception>
    public async Task<string> EnsureAsync(RepoRecord repo, CancellationToken ct)
    {
        if (Git.LooksLikeOption(repo.Source))
        {
            // `repo add` refuses such a source; a record stored by an older version may hold one.
            throw new InvalidOperationException("the repo's source starts with '-', which git would read as an option; link the repo again with a git URL or a local path");
        }

        var mirror = PathOf(repo.Id);
        if (Directory.Exists(mirror))
        {
            return mirror;
        }

        var gate = _creating.GetOrAdd(repo.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (Directory.Exists(mirror))
            {
                return mirror;
            }

            var partial = $"{mirror}.partial-{Guid.NewGuid():N}";
            Directory.CreateDirectory(Path.GetDirectoryName(mirror)!);
            try
            {
                await Git.RunCheckedAsync(["clone", "--mirror", "--quiet", "--", repo.Source, partial], null, ct);
                Directory.Move(partial, mirror);
            }
            finally
            {
                if (Directory.Exists(partial))
                {
                    Directory.Delete(partial, recursive: true);
                }
            }

            return mirror;
        }
        finally
        {
            gate.Release();
        }
    }
}
