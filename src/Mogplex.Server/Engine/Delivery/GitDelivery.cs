using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Isolation;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Repos;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Delivery;

/// <summary>What delivery did: the commit and the files it changed (or nothing to deliver), and the nested repositories it left out.</summary>
public sealed record DeliveryResult(string? Commit, IReadOnlyList<string> ChangedFiles, IReadOnlyList<string> SkippedRepositories);

/// <summary>
/// Commits the sandbox's work tree on the working branch and pushes it to the mirror, then from the
/// mirror to the repo's source. The work tree is the harness's, so everything that reads it (size
/// check, add, diff, commit) runs confined as the sandbox (<see cref="ConfinedGit"/>) against a git
/// folder the server makes for this delivery (<c>server/delivery.git</c>, objects borrowed from the
/// mirror): neither the checkout's <c>.git</c> nor a nested repository's configuration is read by a
/// process of the server. Only the push runs as the server, from that git folder. Nested
/// repositories (a folder with its own <c>.git</c>) are never entered and not delivered: a gitlink
/// is never added or changed. Files over <c>Delivery:MaxFileBytes</c>, or a total over
/// <c>Delivery:MaxTotalBytes</c>, fail the run naming the file before anything is added or pushed.
/// </summary>
public sealed class GitDelivery(ServeSettings settings, IOptionsMonitor<DeliveryOptions> options, ConfinedGit confinedGit)
{
    public const int MaxSubjectLength = 72;
    private const string EmptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    public async Task<DeliveryResult> DeliverAsync(RunRecord run, RepoRecord repo, PreparedSandbox sandbox, RunConfinement confinement, CancellationToken ct)
    {
        var checkout = sandbox.CheckoutDirectory;
        SandboxGit.EnsureRealDirectory(checkout, "the sandbox's checkout");
        var mirror = DataDirectory.MirrorPath(settings.DataDir, repo.Id);
        var server = SandboxFolders.EnsureServer(sandbox.Directory);
        var gitDir = Path.Combine(server, "delivery.git");
        SandboxGit.DeleteEntry(gitDir);
        try
        {
            await CreateGitDirectoryAsync(gitDir, mirror, run.WorkingBranch, sandbox, ct);
            var target = new ConfinedGitTarget(gitDir, checkout, confinement.ForGit(sandbox.Directory, [gitDir], [checkout, mirror], sandbox.User));
            // Nested repositories are left out of the add altogether: git would record a gitlink, or
            // stop at one without a commit. The start commit's own gitlinks stay as they are.
            var nested = await confinedGit.NestedRepositoriesAsync(target, ct);
            var pathspec = new List<string> { "--", "." };
            pathspec.AddRange(nested.Select(n => ":(exclude,literal)" + n));
            await CheckSizesAsync(target, pathspec, ct);
            await confinedGit.RunCheckedAsync(target, ["add", "--all", .. pathspec], ct);
            var (files, gitlinks) = await StagedChangesAsync(target, sandbox.StartCommit, ct);
            var skipped = nested.Union(gitlinks, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                return new DeliveryResult(null, [], skipped);
            }

            var o = options.CurrentValue;
            await confinedGit.RunCheckedAsync(
                target,
                ["-c", "user.name=" + o.AuthorName, "-c", "user.email=" + o.AuthorEmail, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", Subject(run.Prompt)],
                ct);
            var sha = (await confinedGit.RunCheckedAsync(target, ["rev-parse", "--verify", "HEAD^{commit}"], ct)).Trim();
            if (sha.Length != 40 || !sha.All(char.IsAsciiHexDigitLower))
            {
                throw new InvalidOperationException("delivery made no commit");
            }

            // Only the server's push runs outside, with the git folder's settings written anew by the server.
            await File.WriteAllTextAsync(Path.Combine(gitDir, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = true\n", ct);
            await Git.RunCheckedAsync(["--git-dir", gitDir, "push", "--quiet", "--no-verify", mirror, $"{sha}:refs/heads/{run.WorkingBranch}"], null, ct);

            // An explicit URL and refspec, never the mirror's "origin" remote: a mirror remote pushes
            // (and deletes) every ref. The commit, not the mirror's branch: another run preparing its
            // sandbox meanwhile fetches the mirror with --prune (+refs/*:refs/*), which deletes or
            // rewinds a branch not yet in the source; the commit's objects stay.
            await Git.RunCheckedAsync(["--git-dir", mirror, "push", "--quiet", "--no-verify", "--", repo.Source, $"{sha}:refs/heads/{run.WorkingBranch}"], null, ct);
            return new DeliveryResult(sha, files, skipped);
        }
        finally
        {
            SandboxGit.DeleteEntry(gitDir);
        }
    }

    /// <summary>
    /// The sandbox's changes against the run's start, as delivery would see them, without touching
    /// the checkout's <c>.git</c>: the same confined add into a git folder of the server's made for
    /// this diff (<c>server/diff-*.git</c>), then its index against the start commit. Nested
    /// repositories are left out as delivery leaves them out; a file over the delivery limits is refused the same way.
    /// </summary>
    public async Task<Runs.RunDiffResult> DiffAsync(RunRecord run, PreparedSandbox sandbox, RunConfinement confinement, CancellationToken ct)
    {
        var checkout = sandbox.CheckoutDirectory;
        SandboxGit.EnsureRealDirectory(checkout, "the sandbox's checkout");
        var mirror = DataDirectory.MirrorPath(settings.DataDir, run.RepoId);
        var server = SandboxFolders.EnsureServer(sandbox.Directory);
        var gitDir = Path.Combine(server, "diff-" + Guid.NewGuid().ToString("N") + ".git");
        try
        {
            await CreateGitDirectoryAsync(gitDir, mirror, run.WorkingBranch, sandbox, ct);
            var target = new ConfinedGitTarget(gitDir, checkout, confinement.ForGit(sandbox.Directory, [gitDir], [checkout, mirror], sandbox.User));
            var nested = await confinedGit.NestedRepositoriesAsync(target, ct);
            var pathspec = new List<string> { "--", "." };
            pathspec.AddRange(nested.Select(n => ":(exclude,literal)" + n));
            await CheckSizesAsync(target, pathspec, ct);
            await confinedGit.RunCheckedAsync(target, ["add", "--all", .. pathspec], ct);
            return await RunDiffs.FromGitAsync(args => confinedGit.RunCheckedAsync(target, args, ct), ["--cached", sandbox.StartCommit ?? EmptyTree], sandbox.StartCommit, null);
        }
        finally
        {
            SandboxGit.DeleteEntry(gitDir);
        }
    }

    /// <summary>
    /// A git folder of the server's: objects from the mirror (alternates), HEAD on the working branch at
    /// the start commit, the index the server made at the start (its file stamps spare hashing
    /// unchanged files) or read from the start commit. Then it is handed to the sandbox's user, who
    /// runs the confined commands.
    /// </summary>
    private static async Task CreateGitDirectoryAsync(string gitDir, string mirror, string branch, PreparedSandbox sandbox, CancellationToken ct)
    {
        await Git.RunCheckedAsync(["init", "--quiet", "--bare", "--", gitDir], null, ct);
        await File.WriteAllTextAsync(Path.Combine(gitDir, "objects", "info", "alternates"), Path.Combine(Path.GetFullPath(mirror), "objects") + "\n", ct);
        await File.WriteAllTextAsync(Path.Combine(gitDir, "config"), "[core]\n\trepositoryformatversion = 0\n\tbare = false\n", ct);
        var git = new[] { "--git-dir", gitDir };
        if (sandbox.StartCommit is not null)
        {
            await Git.RunCheckedAsync([.. git, "update-ref", "refs/heads/" + branch, sandbox.StartCommit], null, ct);
        }

        await Git.RunCheckedAsync([.. git, "symbolic-ref", "HEAD", "refs/heads/" + branch], null, ct);
        if (sandbox.StartIndex is not null)
        {
            await sandbox.StartIndex.WriteToAsync(Path.Combine(gitDir, "index"), ct);
        }
        else
        {
            await Git.RunCheckedAsync([.. git, "read-tree", sandbox.StartCommit ?? "--empty"], null, ct);
        }

        if (sandbox.User is not null)
        {
            await SandboxUsers.GiveAsync(gitDir, sandbox.User, ct);
        }
    }

    /// <summary>Fails the run, naming the file, when a file that would be added is over the limit, or all of them are.</summary>
    private async Task CheckSizesAsync(ConfinedGitTarget target, IReadOnlyList<string> pathspec, CancellationToken ct)
    {
        var o = options.CurrentValue;
        var listed = await confinedGit.RunCheckedAsync(target, ["ls-files", "-z", "--others", "--exclude-standard", "--modified", "--deduplicate", .. pathspec], ct);
        var names = listed.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        long total = 0;
        foreach (var name in names)
        {
            // lstat below the checkout, never following a link: no component of a listed path is a
            // link git would have entered, and a link itself is delivered as its target text.
            var size = SizeOf(target.WorkTree, name);
            if (size > o.MaxFileBytes)
            {
                throw new EngineException($"delivery refused: '{name}' is {Bytes(size)}, over Delivery:MaxFileBytes ({Bytes(o.MaxFileBytes)}); nothing was pushed");
            }

            total += size;
            if (total > o.MaxTotalBytes)
            {
                throw new EngineException($"delivery refused: the changed files add up to more than Delivery:MaxTotalBytes ({Bytes(o.MaxTotalBytes)}) at '{name}'; nothing was pushed");
            }
        }
    }

    private static long SizeOf(string root, string relative)
    {
        var path = root;
        foreach (var part in relative.TrimEnd('/').Split('/'))
        {
            path = Path.Combine(path, part);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                return info.LinkTarget.Length;
            }

            if (!info.Exists && !Directory.Exists(path))
            {
                return 0;
            }
        }

        var file = new FileInfo(path);
        return file.Exists ? file.Length : 0;
    }

    /// <summary>
    /// The staged changes against the start commit. A gitlink (a nested repository) the add made or
    /// changed is put back as it was: nested repositories are not delivered.
    /// </summary>
    private async Task<(List<string> Files, List<string> Skipped)> StagedChangesAsync(ConfinedGitTarget target, string? start, CancellationToken ct)
    {
        var raw = await confinedGit.RunCheckedAsync(target, ["diff", "--cached", "--raw", "-z", "--no-renames", "--ignore-submodules=none", start ?? EmptyTree, "--"], ct);
        var files = new List<string>();
        var skipped = new List<string>();
        var fields = raw.Split('\0');
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            var meta = fields[i].TrimStart(':').Split(' ');
            var path = fields[i + 1];
            if (meta.Length < 2)
            {
                continue;
            }

            if (meta[0] == "160000" || meta[1] == "160000")
            {
                skipped.Add(path);
                continue;
            }

            files.Add(path);
        }

        foreach (var path in skipped)
        {
            await confinedGit.RunCheckedAsync(target, start is null ? ["rm", "--cached", "--quiet", "--", path] : ["reset", "--quiet", start, "--", path], ct);
        }

        return (files, skipped);
    }

    private static string Bytes(long n) => n >= 1024 * 1024 ? string.Create(CultureInfo.InvariantCulture, $"{n / (1024.0 * 1024):0.#} MiB") : string.Create(CultureInfo.InvariantCulture, $"{n} bytes");

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
