namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task AddRepo_NewRepo_RoundtripsEveryField()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        var repo = new NewRepo(NewId(), user.Id, "acme/widget", "develop", "apps/web", "local:/srv/widget", "npm ci", Now);

        var added = await store.Repos.AddRepoAsync(repo, Ct);
        var found = await store.Repos.GetRepoAsync(repo.Id, null, Ct);

        Assert.Equal(added, found);
        Assert.Equal(
            new RepoRecord(repo.Id, user.Id, "acme/widget", added.InstallationId, "develop", "apps/web", "local:/srv/widget", "npm ci", Start),
            found);
    }

    [Fact]
    public async Task AddRepo_SameSource_SharesInstallationIdAndOtherSourceGetsAnother()
    {
        var store = await CreateStoreAsync();
        var alice = await store.Users.AddUserAsync("alice", Now, Ct);
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);

        var first = await AddRepoAsync(store, alice.Id, "acme/one", "github:acme");
        var second = await AddRepoAsync(store, bob.Id, "acme/two", "github:acme");
        var other = await AddRepoAsync(store, alice.Id, "globex/three", "github:globex");

        Assert.Equal(first.InstallationId, second.InstallationId);
        Assert.NotEqual(first.InstallationId, other.InstallationId);
        Assert.Equal(first.InstallationId, (await store.Repos.GetRepoAsync(second.Id, null, Ct))!.InstallationId);
        Assert.Equal(other.InstallationId, (await store.Repos.GetRepoAsync(other.Id, null, Ct))!.InstallationId);
    }

    [Fact]
    public async Task GetRepo_OwnerFilter_OnlyOwnerOrUnfilteredSeesIt()
    {
        var (store, alice, repo) = await ArrangeAsync();
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);

        Assert.Equal(repo, await store.Repos.GetRepoAsync(repo.Id, alice.Id, Ct));
        Assert.Equal(repo, await store.Repos.GetRepoAsync(repo.Id, null, Ct));
        Assert.Null(await store.Repos.GetRepoAsync(repo.Id, bob.Id, Ct));
        Assert.Null(await store.Repos.GetRepoAsync(NewId(), null, Ct));
    }

    [Fact]
    public async Task ListRepos_NoQuery_OrderedByFullName()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        foreach (var name in new[] { "globex/zeta", "acme/widget", "acme/anvil", "initech/tps" })
        {
            await AddRepoAsync(store, user.Id, name);
        }

        var repos = await store.Repos.ListReposAsync(new RepoQuery(null, null, 100), Ct);

        Assert.Equal(["acme/anvil", "acme/widget", "globex/zeta", "initech/tps"], repos.Select(r => r.FullName));
    }

    [Fact]
    public async Task ListRepos_UserFilter_OnlyThatUsersRepos()
    {
        var store = await CreateStoreAsync();
        var alice = await store.Users.AddUserAsync("alice", Now, Ct);
        var bob = await store.Users.AddUserAsync("bob", Now, Ct);
        await AddRepoAsync(store, alice.Id, "acme/b");
        await AddRepoAsync(store, bob.Id, "acme/c");
        await AddRepoAsync(store, alice.Id, "acme/a");

        var repos = await store.Repos.ListReposAsync(new RepoQuery(alice.Id, null, 100), Ct);

        Assert.Equal(["acme/a", "acme/b"], repos.Select(r => r.FullName));
    }

    [Theory]
    [InlineData("a_b", new[] { "acme/a_b" })]
    [InlineData("A_B", new[] { "acme/a_b" })]
    [InlineData("_", new[] { "acme/a_b" })]
    [InlineData("a%", new string[0])]
    [InlineData("%", new[] { "acme/100%" })]
    [InlineData("0%", new[] { "acme/100%" })]
    [InlineData("WIDGET", new[] { "acme/widget" })]
    [InlineData("acme/", new[] { "acme/100%", "acme/a_b", "acme/axb", "acme/widget" })]
    [InlineData("nothing", new string[0])]
    public async Task ListRepos_Query_IsLiteralCaseInsensitiveSubstring(string query, string[] expected)
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        foreach (var name in new[] { "acme/a_b", "acme/axb", "acme/100%", "acme/widget" })
        {
            await AddRepoAsync(store, user.Id, name);
        }

        var repos = await store.Repos.ListReposAsync(new RepoQuery(null, query, 100), Ct);

        Assert.Equal(expected, repos.Select(r => r.FullName));
    }

    [Fact]
    public async Task ListRepos_QueryOnMixedCaseName_MatchesIgnoringCase()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        await AddRepoAsync(store, user.Id, "Acme/Widget");

        var repos = await store.Repos.ListReposAsync(new RepoQuery(null, "acme/wid", 100), Ct);

        Assert.Equal("Acme/Widget", Assert.Single(repos).FullName);
    }

    [Fact]
    public async Task ListRepos_Limit_ReturnsFirstByName()
    {
        var store = await CreateStoreAsync();
        var user = await store.Users.AddUserAsync("alice", Now, Ct);
        foreach (var name in new[] { "e/e", "c/c", "a/a", "d/d", "b/b" })
        {
            await AddRepoAsync(store, user.Id, name);
        }

        var repos = await store.Repos.ListReposAsync(new RepoQuery(null, null, 2), Ct);

        Assert.Equal(["a/a", "b/b"], repos.Select(r => r.FullName));
    }

    [Fact]
    public async Task RemoveRepo_Linked_DisappearsFromGetAndList()
    {
        var (store, user, repo) = await ArrangeAsync();
        var kept = await AddRepoAsync(store, user.Id, "acme/kept");

        Assert.True(await store.Repos.RemoveRepoAsync(repo.Id, Now, Ct));

        Assert.Null(await store.Repos.GetRepoAsync(repo.Id, null, Ct));
        Assert.Null(await store.Repos.GetRepoAsync(repo.Id, user.Id, Ct));
        Assert.Equal([kept.Id], (await store.Repos.ListReposAsync(new RepoQuery(null, null, 100), Ct)).Select(r => r.Id));
        Assert.Empty(await store.Repos.ListReposAsync(new RepoQuery(user.Id, "widget", 100), Ct));
    }

    [Fact]
    public async Task RemoveRepo_AlreadyRemovedOrUnknown_ReturnsFalse()
    {
        var (store, _, repo) = await ArrangeAsync();
        await store.Repos.RemoveRepoAsync(repo.Id, Now, Ct);

        Assert.False(await store.Repos.RemoveRepoAsync(repo.Id, Now, Ct));
        Assert.False(await store.Repos.RemoveRepoAsync(NewId(), Now, Ct));
    }

    [Fact]
    public async Task RemoveRepo_WithRuns_RunsStay()
    {
        var (store, user, repo) = await ArrangeAsync();
        var run = await CreateRunAsync(store, user.Id, repo.Id);

        await store.Repos.RemoveRepoAsync(repo.Id, Now, Ct);

        Assert.Equal(run, await store.Runs.GetRunAsync(run.Id, user.Id, Ct));
    }
}
