namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>A local bare git repository for <c>mogplexd repo add</c>, with one commit pushed from a clone.</summary>
public sealed record GitSource(string Path, string Branch, string Commit)
{
    /// <summary>
    /// <c>git init --bare &lt;root&gt;/sources/&lt;owner&gt;/&lt;name&gt;.git</c> (its HEAD names git's
    /// default, not <paramref name="branch"/>), then a clone pushes one commit on <paramref name="branch"/>.
    /// </summary>
    public static async Task<GitSource> CreateAsync(string root, string owner, string name, string branch = "trunk")
    {
        var bare = System.IO.Path.Combine(root, "sources", owner, name + ".git");
        var work = System.IO.Path.Combine(root, "work-" + name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(bare)!);
        await ProcessRunner.RunCheckedAsync("git", ["init", "--quiet", "--bare", bare]);
        await ProcessRunner.RunCheckedAsync("git", ["clone", "--quiet", bare, work]);
        await ProcessRunner.RunCheckedAsync("git", ["checkout", "--quiet", "-b", branch], work);
        await File.WriteAllTextAsync(System.IO.Path.Combine(work, "README.md"), "# " + name + "\n", TestContext.Current.CancellationToken);
        await ProcessRunner.RunCheckedAsync("git", ["add", "README.md"], work);
        await ProcessRunner.RunCheckedAsync("git", ["-c", "user.name=E2E", "-c", "user.email=e2e@example.invalid", "commit", "--quiet", "-m", "initial"], work);
        await ProcessRunner.RunCheckedAsync("git", ["push", "--quiet", "origin", branch], work);
        var commit = (await ProcessRunner.RunCheckedAsync("git", ["rev-parse", "HEAD"], work)).Trim();
        return new GitSource(bare, branch, commit);
    }
}
