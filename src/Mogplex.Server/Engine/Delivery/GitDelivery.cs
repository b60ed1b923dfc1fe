using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Delivery;

/// <summary>What delivery did: the commit and the files it changed, or nothing to deliver.</summary>
public sealed record DeliveryResult(string? Commit, IReadOnlyList<string> ChangedFiles);

/// <summary>
/// Commits the sandbox's changes on the working branch and pushes them to the mirror, then from
/// the mirror to the repo's source. Runs as the server (outside the sandbox): the harness never
/// holds push credentials. A rejected push (the branch moved upstream) fails the run honestly.
/// </summary>
public sealed class GitDelivery(ServeSettings settings, IOptionsMonitor<DeliveryOptions> options)
{
    public const int MaxSubjectLength = 72;

    public async Task<DeliveryResult> DeliverAsync(RunRecord run, RepoRecord repo, string checkout, CancellationToken ct)
    {
        await Git.RunCheckedAsync(["add", "--all"], checkout, ct);
        var status = await Git.RunCheckedAsync(["status", "--porcelain", "--no-renames"], checkout, ct);
        var files = status.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Length > 3 ? l[3..] : l).ToList();
        if (files.Count == 0)
        {
            return new DeliveryResult(null, []);
        }

        var o = options.CurrentValue;
        await Git.RunCheckedAsync(
            ["-c", "user.name=" + o.AuthorName, "-c", "user.email=" + o.AuthorEmail, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", Subject(run.Prompt)],
            checkout,
            ct);
        var sha = (await Git.RunCheckedAsync(["rev-parse", "HEAD"], checkout, ct)).Trim();
        var mirror = DataDirectory.MirrorPath(settings.DataDir, repo.Id);
        var refspec = $"HEAD:refs/heads/{run.WorkingBranch}";
        await Git.RunCheckedAsync(["push", "--quiet", "--no-verify", mirror, refspec], checkout, ct);

        // An explicit URL and refspec, never the mirror's "origin" remote: a mirror remote pushes
        // (and deletes) every ref. The commit, not the mirror's branch: another run preparing its
        // sandbox meanwhile fetches the mirror with --prune (+refs/*:refs/*), which deletes or
        // rewinds a branch not yet in the source; the commit's objects stay.
        await Git.RunCheckedAsync(["--git-dir", mirror, "push", "--quiet", "--no-verify", repo.Source, $"{sha}:refs/heads/{run.WorkingBranch}"], null, ct);
        return new DeliveryResult(sha, files);
    }

    /// <summary>The first line of the prompt, at most 72 characters.</summary>
    public static string Subject(string prompt)
    {
        var first = prompt.Split('\n', 2)[0].Trim();
        if (first.Length == 0)
        {
            first = "Mogplex run";
        }

        return first.Length <= MaxSubjectLength ? first : first[..(MaxSubjectLength - 3)].TrimEnd() + "...";
    }
}
