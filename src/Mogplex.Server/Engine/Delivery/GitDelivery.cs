using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Repos;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Delivery;

/// <summary>What delivery did: the commit and the files it changed, or nothing to deliver.</summary>
public sealed record DeliveryResult(string? Commit, IReadOnlyList<string> ChangedFiles);

/// <summary>
/// Commits the sandbox's changes on the working branch and pushes them to the mirror, then from
/// the mirror to the repo's source. Runs as the server (outside the sandbox): the harness never
/// holds push credentials. A rejected push (the branch moved upstream) fails the run honestly.
/// The harness's <c>.git</c> is never used: the commit is made in a reclaimed one
/// (<see cref="SandboxGit"/>), on top of the commit the sandbox started at, from the work tree.
/// </summary>
public sealed class GitDelivery(ServeSettings settings, IOptionsMonitor<DeliveryOptions> options, SandboxGit sandboxGit)
{
    public const int MaxSubjectLength = 72;

    public async Task<DeliveryResult> DeliverAsync(RunRecord run, RepoRecord repo, PreparedSandbox sandbox, CancellationToken ct)
    {
        var checkout = sandbox.CheckoutDirectory;
        var mirror = DataDirectory.MirrorPath(settings.DataDir, repo.Id);
        await sandboxGit.ReclaimAsync(checkout, mirror, run.WorkingBranch, sandbox.StartCommit, sandbox.StartIndex, ct);
        await SandboxGit.RunCheckedAsync(checkout, ["add", "--all"], ct);
        var status = await SandboxGit.RunCheckedAsync(checkout, ["status", "--porcelain", "--no-renames"], ct);
        var files = status.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Length > 3 ? l[3..] : l).ToList();
        if (files.Count == 0)
        {
            return new DeliveryResult(null, []);
        }

        var o = options.CurrentValue;
        await SandboxGit.RunCheckedAsync(
            checkout,
            ["-c", "user.name=" + o.AuthorName, "-c", "user.email=" + o.AuthorEmail, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", Subject(run.Prompt)],
            ct);
        var sha = (await SandboxGit.RunCheckedAsync(checkout, ["rev-parse", "HEAD"], ct)).Trim();
        var refspec = $"HEAD:refs/heads/{run.WorkingBranch}";
        await SandboxGit.RunCheckedAsync(checkout, ["push", "--quiet", "--no-verify", mirror, refspec], ct);

        // An explicit URL and refspec, never the mirror's "origin" remote: a mirror remote pushes
        // (and deletes) every ref. The commit, not the mirror's branch: another run preparing its
        // sandbox meanwhile fetches the mirror with --prune (+refs/*:refs/*), which deletes or
        // rewinds a branch not yet in the source; the commit's objects stay.
        await Git.RunCheckedAsync(["--git-dir", mirror, "push", "--quiet", "--no-verify", "--", repo.Source, $"{sha}:refs/heads/{run.WorkingBranch}"], null, ct);
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
