using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;
using Mogplex.Server.Validation;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary><c>mogplexd repo add</c>: links a repository: checks the source, detects its default branch, creates the bare mirror, stores the record.</summary>
public static class RepoLinker
{
    public sealed record Request(string Source, string? FullName, string? DefaultBranch, string? RootDirectory, string? InstallCommand, string UserId);

    public static async Task<RepoRecord> LinkAsync(OperatorContext ctx, Request request, CancellationToken ct)
    {
        var source = NormalizeSource(request.Source);
        if (!RootDirectory.TryNormalize(request.RootDirectory, out var root))
        {
            throw new OperatorException($"--root-directory '{request.RootDirectory}' is not a valid relative directory");
        }

        if (request.DefaultBranch is { } given && !BranchName.IsValid(given))
        {
            throw new OperatorException($"--default-branch '{given}' is not a valid branch name");
        }

        var fullName = request.FullName?.Trim() ?? DeriveFullName(source);
        if (fullName.Length is 0 or > 200 || fullName.Any(char.IsControl))
        {
            throw new OperatorException("--name must be 1 to 200 printable characters (owner/repo)");
        }

        var probe = await Git.RunAsync(["ls-remote", "--symref", "--", source, "HEAD"], null, ct, TimeSpan.FromMinutes(2));
        if (probe.ExitCode != 0)
        {
            throw new OperatorException($"cannot read the git repository at {request.Source}: {FirstLine(probe.StdErr)}");
        }

        var defaultBranch = request.DefaultBranch ?? DetectDefaultBranch(probe.StdOut);
        if (defaultBranch is null)
        {
            // HEAD is unborn or detached (e.g. `git init --bare`, whose HEAD names master, then
            // only trunk pushed): pick from the branches that exist rather than naming one that does not.
            var heads = await Git.RunAsync(["ls-remote", "--heads", "--", source], null, ct, TimeSpan.FromMinutes(2));
            defaultBranch = heads.ExitCode == 0 ? PickDefaultBranch(heads.StdOut) : "main";
        }

        if (!BranchName.IsValid(defaultBranch))
        {
            // The source names it: runs would hand it to git as their base branch.
            throw new OperatorException($"the default branch of {request.Source} ('{defaultBranch}') is not a valid branch name; give one with --default-branch");
        }

        var id = Guid.CreateVersion7().ToString();
        var mirror = DataDirectory.MirrorPath(ctx.DataDir, id);
        var clone = await Git.RunAsync(["clone", "--mirror", "--quiet", "--", source, mirror], null, ct, TimeSpan.FromMinutes(30));
        if (clone.ExitCode != 0)
        {
            throw new OperatorException($"cannot mirror {request.Source}: {FirstLine(clone.StdErr)}");
        }

        try
        {
            return await ctx.Store.Repos.AddRepoAsync(
                new NewRepo(id, request.UserId, fullName, defaultBranch, root, source, request.InstallCommand, ctx.Time.GetUtcNow()), ct);
        }
        catch
        {
            Directory.Delete(mirror, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// A local path becomes absolute (so the server can reach it from any folder); a URL stays as
    /// given. A source git would read as an option (<c>--upload-pack=...</c>) is refused.
    /// </summary>
    internal static string NormalizeSource(string source)
    {
        var trimmed = source.Trim();
        if (trimmed.Length == 0)
        {
            throw new OperatorException("the source must be a git URL or a local path");
        }

        var normalized = Directory.Exists(trimmed) ? Path.GetFullPath(trimmed).TrimEnd('/') : trimmed;
        if (Git.LooksLikeOption(normalized))
        {
            throw new OperatorException($"the source '{trimmed}' starts with '-', which git would read as an option; give a git URL or a local path (./{trimmed} for a folder of that name)");
        }

        return normalized;
    }

    /// <summary><c>owner/repo</c> from the last two path segments, without <c>.git</c>.</summary>
    internal static string DeriveFullName(string source)
    {
        var path = source.Replace('\\', '/').TrimEnd('/');
        var colon = path.LastIndexOf(':');
        if (colon >= 0 && !path.Contains("://", StringComparison.Ordinal))
        {
            path = path[(colon + 1)..]; // scp-like git@host:owner/repo.git
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).TakeLast(2)
            .Select(p => p.EndsWith(".git", StringComparison.Ordinal) ? p[..^4] : p).ToArray();
        return string.Join('/', parts);
    }

    /// <summary>Reads <c>ref: refs/heads/main	HEAD</c> from <c>git ls-remote --symref</c>.</summary>
    internal static string? DetectDefaultBranch(string lsRemote)
    {
        foreach (var line in lsRemote.Split('\n'))
        {
            const string marker = "ref: refs/heads/";
            if (line.StartsWith(marker, StringComparison.Ordinal) && line.EndsWith("\tHEAD", StringComparison.Ordinal))
            {
                return line[marker.Length..^"\tHEAD".Length];
            }
        }

        return null;
    }

    /// <summary>
    /// From <c>git ls-remote --heads</c>: <c>main</c>, else <c>master</c>, else the first branch
    /// with a valid name (ls-remote sorts by name, and <c>-x</c> sorts first); <c>main</c> for a
    /// repository without branches.
    /// </summary>
    internal static string PickDefaultBranch(string lsRemoteHeads)
    {
        const string marker = "\trefs/heads/";
        var branches = lsRemoteHeads.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimEnd('\r'))
            .Select(line => line.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0 ? line[(at + marker.Length)..] : null)
            .Where(BranchName.IsValid)
            .OfType<string>()
            .ToList();
        return branches.Contains("main") ? "main" : branches.Contains("master") ? "master" : branches.FirstOrDefault() ?? "main";
    }

    private static string FirstLine(string text) => text.Trim().Split('\n')[0].Trim() is { Length: > 0 } line ? line : "git failed";
}
