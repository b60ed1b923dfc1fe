using System.Collections.Concurrent;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Repos;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Delivery;

/// <summary>
/// Run diffs (interactive.md, <c>GET /runs/{id}/diff</c>). Live: the executor of a run registers
/// how to diff its sandbox (<see cref="GitDelivery.DiffAsync"/>: confined, against a git folder
/// of the server's, never the sandbox's <c>.git</c>) for as long as it holds the sandbox. A
/// delivered commit: against its parent, in the repo's mirror (the server's own git folder, with
/// external diff drivers and text conversions off: a harness's <c>.gitattributes</c> names
/// drivers, it cannot define them).
/// </summary>
public sealed class RunDiffs(ServeSettings settings, IMogplexStore store, RepoMirrors mirrors) : IRunDiffSource
{
    /// <summary>Longest patch answered; past it the patch is cut at a line and marked truncated.</summary>
    public const int MaxPatchChars = 1_000_000;

    private const string EmptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

    private readonly ConcurrentDictionary<string, Func<CancellationToken, Task<RunDiffResult>>> _live = new(StringComparer.Ordinal);

    /// <summary>Makes the run's sandbox diffable until the returned handle is disposed.</summary>
    public IDisposable Register(string runId, Func<CancellationToken, Task<RunDiffResult>> diff)
    {
        _live[runId] = diff;
        return new Unregister(() => _live.TryRemove(runId, out _));
    }

    public async Task<RunDiffResult?> LiveAsync(string runId, CancellationToken ct)
    {
        if (!_live.TryGetValue(runId, out var diff))
        {
            return null;
        }

        try
        {
            return await diff(ct);
        }
        catch (EngineException ex)
        {
            throw new RunDiffUnavailableException(ex.Message.Replace("delivery refused", "diff refused", StringComparison.Ordinal).Replace("; nothing was pushed", "", StringComparison.Ordinal));
        }
    }

    public async Task<RunDiffResult> CommitAsync(string repoId, string commit, CancellationToken ct)
    {
        var mirror = DataDirectory.MirrorPath(settings.DataDir, repoId);
        var git = new[] { "--git-dir", mirror };
        if (!Directory.Exists(mirror) || (await Git.RunAsync([.. git, "cat-file", "-e", commit + "^{commit}"], null, ct)).ExitCode != 0)
        {
            // Delivered by another node, or before this node's last fetch: the source has it.
            var repo = await store.Repos.GetRepoAsync(repoId, null, ct) ?? throw new InvalidOperationException("the repo was removed");
            mirror = await mirrors.EnsureAsync(repo, ct);
            git = ["--git-dir", mirror];
            await Git.RunCheckedAsync([.. git, "fetch", "--prune", "--quiet", "origin"], null, ct);
        }

        var parent = await Git.RunAsync([.. git, "rev-parse", "--verify", "--quiet", commit + "^1^{commit}"], null, ct);
        var @base = parent.ExitCode == 0 ? parent.StdOut.Trim() : null;
        return await FromGitAsync(args => Git.RunCheckedAsync([.. git, .. args], null, ct), [@base ?? EmptyTree, commit], @base, commit);
    }

    /// <summary>
    /// Numbers, statuses and the patch from three <c>git diff</c> calls with <paramref name="range"/>
    /// (two commits, or <c>--cached</c> and a start), run by <paramref name="git"/>.
    /// </summary>
    public static async Task<RunDiffResult> FromGitAsync(Func<IReadOnlyList<string>, Task<string>> git, IReadOnlyList<string> range, string? @base, string? head)
    {
        string[] common = ["diff", "--no-ext-diff", "--no-textconv", "--no-renames", "--ignore-submodules=all", "--no-color"];
        var numstat = await git([.. common, "--numstat", "-z", .. range, "--"]);
        var status = await git([.. common, "--name-status", "-z", .. range, "--"]);
        var patch = await git([.. common, "-p", .. range, "--"]);
        var counts = new Dictionary<string, (int?, int?)>(StringComparer.Ordinal);
        foreach (var entry in numstat.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('\t', 3);
            if (parts.Length == 3)
            {
                counts[parts[2]] = (int.TryParse(parts[0], out var a) ? a : null, int.TryParse(parts[1], out var d) ? d : null);
            }
        }

        var files = new List<RunDiffFile>();
        var fields = status.Split('\0');
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            var path = fields[i + 1];
            var (additions, deletions) = counts.GetValueOrDefault(path);
            files.Add(new RunDiffFile(path, fields[i] switch { "A" => "added", "M" => "modified", "D" => "deleted", "T" => "type_changed", var other => other }, additions, deletions));
        }

        var truncated = patch.Length > MaxPatchChars;
        if (truncated)
        {
            var cut = patch.LastIndexOf('\n', MaxPatchChars - 1);
            patch = patch[..(cut > 0 ? cut + 1 : MaxPatchChars)];
        }

        return new RunDiffResult(@base, head, files, patch, truncated);
    }

    private sealed class Unregister(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
