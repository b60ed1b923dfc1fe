using System.Diagnostics;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>Real git repositories for engine tests: a bare source with one commit, linked like <c>mogplexd repo add</c> does.</summary>
public static class GitRepos
{
    /// <summary>Creates a bare repo (branch main, files given), mirrors it into the server's data folder and links it.</summary>
    public static async Task<(string RepoId, string SourcePath)> LinkAsync(ServerFixture server, IDictionary<string, string>? files = null, string user = "admin")
    {
        var root = Directory.CreateTempSubdirectory("mogplex-git-").FullName;
        var source = Path.Combine(root, "source.git");
        var work = Path.Combine(root, "work");
        Git(root, "init", "--quiet", "--bare", "--initial-branch=main", source);
        Git(root, "clone", "--quiet", source, work);
        foreach (var (path, content) in files ?? new Dictionary<string, string> { ["README.md"] = "# demo\n" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(work, path))!);
            await File.WriteAllTextAsync(Path.Combine(work, path), content, ServerFixture.Ct);
        }

        Git(work, "add", "--all");
        Git(work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", "initial");
        Git(work, "push", "--quiet", "origin", "HEAD:main");

        return (await LinkSourceAsync(server, source, user), source);
    }

    /// <summary>Links an existing bare <paramref name="source"/> for <paramref name="user"/> (a repo record of its own: two users may link one source).</summary>
    public static async Task<string> LinkSourceAsync(ServerFixture server, string source, string user)
    {
        var id = Guid.CreateVersion7().ToString();
        Git(Path.GetDirectoryName(source)!, "clone", "--quiet", "--mirror", source, DataDirectory.MirrorPath(server.DataDir, id));
        await server.Store.Repos.AddRepoAsync(new NewRepo(id, await server.UserIdAsync(user), "acme/demo", "main", "", source, null, server.Time.GetUtcNow()), ServerFixture.Ct);
        return id;
    }

    public static string Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? stdout : throw new InvalidOperationException($"git {string.Join(' ', args)}: {stderr}");
    }
}
