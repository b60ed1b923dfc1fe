using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// <c>mogplexd limits delegate</c>: what it refuses, with the published binary. That a delegated
/// server bounds its runs with control groups is in <see cref="SandboxServerUserTests"/>.
/// </summary>
public sealed class LimitsCommandTests
{
    [Theory]
    [InlineData("root", "root makes its own control groups")]
    [InlineData("0", "root makes its own control groups")]
    [InlineData("no-such-user-mogplex", "no user named 'no-such-user-mogplex'")]
    [InlineData("--upload-pack=x", "--user must be a user name or a uid")]
    public async Task Delegate_RefusesRootUnknownAndOptionLikeUsers(string user, string message)
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "limits delegate runs as root");
        await using var mogplexd = new MogplexdProcess();

        var result = await mogplexd.RunAsync(["limits", "delegate", "--user", user], env: null);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task Delegate_AsAnUnprivilegedUser_IsRefusedNamingRoot()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "needs root to become another user");
        await using var mogplexd = new MogplexdProcess();
        mogplexd.RunAsUid = 65534;
        mogplexd.GiveToRunAsUser();

        var result = await mogplexd.RunAsUserAsync("limits", "delegate", "--user", "65534");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("must run as root", result.StdErr, StringComparison.Ordinal);
    }
}
