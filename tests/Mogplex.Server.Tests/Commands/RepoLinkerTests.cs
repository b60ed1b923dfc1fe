using Mogplex.Server.Commands;

namespace Mogplex.Server.Tests.Commands;

public sealed class RepoLinkerTests
{
    [Theory]
    [InlineData("https://github.com/acme/api.git", "acme/api")]
    [InlineData("https://github.com/acme/api", "acme/api")]
    [InlineData("git@github.com:acme/api.git", "acme/api")]
    [InlineData("ssh://git@host:2222/team/acme/api.git", "acme/api")]
    [InlineData("/srv/git/acme/api.git/", "acme/api")]
    [InlineData("/api.git", "api")]
    public void DeriveFullName_LastTwoSegmentsWithoutDotGit(string source, string expected) =>
        Assert.Equal(expected, RepoLinker.DeriveFullName(source));

    [Fact]
    public void DetectDefaultBranch_SymrefLine_ReturnsBranch()
    {
        const string output = "ref: refs/heads/trunk\tHEAD\n4b825dc642cb6eb9a060e54bf8d69288fbee4904\tHEAD\n";
        Assert.Equal("trunk", RepoLinker.DetectDefaultBranch(output));
        Assert.Equal("release/1.x", RepoLinker.DetectDefaultBranch("ref: refs/heads/release/1.x\tHEAD\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4b825dc642cb6eb9a060e54bf8d69288fbee4904\tHEAD\n")]
    [InlineData("ref: refs/tags/v1\tHEAD\n")]
    public void DetectDefaultBranch_NoBranchSymref_Null(string output) => Assert.Null(RepoLinker.DetectDefaultBranch(output));

    [Theory]
    [InlineData("", "main")]
    [InlineData("1111111111111111111111111111111111111111\trefs/heads/trunk\n", "trunk")]
    [InlineData("1111111111111111111111111111111111111111\trefs/heads/dev\n2222222222222222222222222222222222222222\trefs/heads/master\n", "master")]
    [InlineData("1111111111111111111111111111111111111111\trefs/heads/master\n2222222222222222222222222222222222222222\trefs/heads/main\n", "main")]
    [InlineData("1111111111111111111111111111111111111111\trefs/heads/alpha\n2222222222222222222222222222222222222222\trefs/heads/beta\n", "alpha")]
    [InlineData("1111111111111111111111111111111111111111\trefs/heads/-alpha\n2222222222222222222222222222222222222222\trefs/heads/beta\n", "beta")]
    public void PickDefaultBranch_HeadsWithoutSymref_PrefersMainThenMasterThenFirst(string output, string expected) =>
        Assert.Equal(expected, RepoLinker.PickDefaultBranch(output));
}
