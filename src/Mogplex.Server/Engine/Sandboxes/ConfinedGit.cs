using System.Diagnostics;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Repos;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// Git that reads or writes a sandbox's work tree. The tree is the harness's: it can hold nested
/// repositories with their own configuration (filters, fsmonitor, hooks), attributes, links. So
/// every such command runs confined like the harness (its uid, namespaces, no capabilities, the
/// run's limits, no network) with only the folders it needs, against a git folder the server made
/// (<see cref="ConfinedGitTarget.GitDirectory"/>), hardened like every server git call and with
/// submodules ignored: whatever the tree names runs, at worst, as the sandbox. Only the push of the
/// finished commit runs outside, from server-made objects.
/// </summary>
public sealed class ConfinedGit(IsolationResolver isolation)
{
    /// <summary>Settings for commands that look at a work tree: nested repositories are never entered.</summary>
    private static readonly string[] s_tree = ["-c", "diff.ignoreSubmodules=all", "-c", "status.submoduleSummary=false", "-c", "core.checkStat=minimal", "-c", "core.trustctime=false"];

    public Task<Git.Result> RunAsync(ConfinedGitTarget target, IReadOnlyList<string> args, CancellationToken ct) =>
        RunToolAsync(target, "git", [.. Git.HardenedConfig, .. s_tree, "--git-dir", target.GitDirectory, "--work-tree", target.WorkTree, .. args], ct);

    /// <summary>
    /// The folders below the work tree that hold a <c>.git</c> of their own (file, folder or link):
    /// nested repositories, listed by <c>find</c> confined like git (it never follows a link).
    /// </summary>
    public async Task<IReadOnlyList<string>> NestedRepositoriesAsync(ConfinedGitTarget target, CancellationToken ct)
    {
        var found = await RunToolAsync(target, "find", [".", "-mindepth", "2", "-name", ".git", "-print0"], ct);
        if (found.ExitCode != 0)
        {
            throw new InvalidOperationException("find failed: " + found.StdErr.Trim());
        }

        return [.. found.StdOut.Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => Path.GetDirectoryName(p.StartsWith("./", StringComparison.Ordinal) ? p[2..] : p)!)
            .Where(p => p.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    private async Task<Git.Result> RunToolAsync(ConfinedGitTarget target, string fileName, IReadOnlyList<string> args, CancellationToken ct)
    {
        var spec = isolation.Confine(
            new ProcessSpec
            {
                FileName = fileName,
                Arguments = args,
                WorkingDirectory = target.WorkTree,
                Environment = Environment(target),
            },
            target.View);
        var argv = HarnessProcess.BuildArgv(spec, isolation.Mode);
        var psi = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = target.WorkTree,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in spec.Environment)
        {
            psi.Environment[k] = v;
        }

        foreach (var a in argv.Skip(1))
        {
            psi.ArgumentList.Add(a);
        }

        return await Git.RunProcessAsync(psi, ct);
    }

    /// <summary>Throws with git's own message when the command failed.</summary>
    public async Task<string> RunCheckedAsync(ConfinedGitTarget target, IReadOnlyList<string> args, CancellationToken ct)
    {
        var result = await RunAsync(target, args, ct);
        return Git.Checked(result, args);
    }

    private static Dictionary<string, string> Environment(ConfinedGitTarget target)
    {
        var env = new Dictionary<string, string>(Git.HardenedEnvironment, StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["HOME"] = target.View.Home,
            ["TMPDIR"] = "/tmp",
        };
        return env;
    }
}

/// <summary>A confined git command's git folder, work tree, and what it may see (<see cref="SandboxView"/>).</summary>
public sealed record ConfinedGitTarget(string GitDirectory, string WorkTree, SandboxView View);
