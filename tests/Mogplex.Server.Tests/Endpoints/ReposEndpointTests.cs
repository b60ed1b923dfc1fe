using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>GET /repos</c>: literal search, limit clamping, order, wire shape, ownership.</summary>
public sealed class ReposEndpointTests
{
    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_Shape_SnakeCaseFieldsExactly()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var id = await server.CreateRepoAsync(fullName: "acme/web", defaultBranch: "develop", rootDirectory: "packages/web");

        var data = ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"));

        ApiAssert.HasExactly(data, "repos");
        var repo = Assert.Single(data.GetProperty("repos").EnumerateArray());
        ApiAssert.HasExactly(repo, "id", "full_name", "installation_id", "default_branch", "root_directory");
        Assert.Equal(id, repo.GetProperty("id").GetString());
        Assert.Equal("acme/web", repo.GetProperty("full_name").GetString());
        Assert.Equal(JsonValueKind.Number, repo.GetProperty("installation_id").ValueKind);
        Assert.True(repo.GetProperty("installation_id").GetInt64() > 0);
        Assert.Equal("develop", repo.GetProperty("default_branch").GetString());
        Assert.Equal("packages/web", repo.GetProperty("root_directory").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_InstallationId_StablePerSource()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var user = await server.UserIdAsync();
        foreach (var (name, source) in new[] { ("a/one", "/srv/git/shared.git"), ("a/two", "/srv/git/shared.git"), ("a/three", "/srv/git/other.git") })
        {
            await server.Store.Repos.AddRepoAsync(new NewRepo(Guid.CreateVersion7().ToString(), user, name, "main", "", source, null, server.Time.GetUtcNow()), ServerFixture.Ct);
        }

        var repos = ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos")).GetProperty("repos").EnumerateArray()
            .ToDictionary(r => r.GetProperty("full_name").GetString()!, r => r.GetProperty("installation_id").GetInt64());

        Assert.Equal(repos["a/one"], repos["a/two"]);
        Assert.NotEqual(repos["a/one"], repos["a/three"]);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_OrderedByFullName()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        foreach (var name in new[] { "zeta/app", "acme/web", "mid/tool", "acme/api" })
        {
            await server.CreateRepoAsync(fullName: name);
        }

        var names = Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos")));

        Assert.Equal(["acme/api", "acme/web", "mid/tool", "zeta/app"], names);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_Query_LiteralCaseInsensitiveSubstring()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        foreach (var name in new[] { "acme/api", "acme/API-tools", "acme/100%_done", "acme/1000done", "x/under_score", "other/web" })
        {
            await server.CreateRepoAsync(fullName: name);
        }

        (string Q, string[] Expected)[] cases =
        [
            ("API", ["acme/api", "acme/API-tools"]),
            ("api-TOOLS", ["acme/API-tools"]),
            ("acme/", ["acme/100%_done", "acme/1000done", "acme/api", "acme/API-tools"]),
            ("%", ["acme/100%_done"]),
            ("_", ["acme/100%_done", "x/under_score"]),
            ("0%_d", ["acme/100%_done"]),
            ("00_d", []),
            ("1%0", []),
            ("a%", []),
            ("[a]", []),
            ("'", []),
            ("nothing", []),
        ];

        await Cases.CheckAllAsync(cases, async c =>
        {
            var names = Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?q=" + Uri.EscapeDataString(c.Q))));
            Assert.Equal(c.Expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        });

        // An empty q is no filter.
        Assert.Equal(6, Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?q="))).Length);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_Limit_DefaultsTo100AndClampsTo1And200()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var user = await server.UserIdAsync();
        for (var i = 0; i < 205; i++)
        {
            await server.Store.Repos.AddRepoAsync(
                new NewRepo(Guid.CreateVersion7().ToString(), user, $"org/repo-{i:D3}", "main", "", $"/srv/git/{i}.git", null, server.Time.GetUtcNow()), ServerFixture.Ct);
        }

        Assert.Equal(100, Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"))).Length);
        Assert.Equal(["org/repo-000"], Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=0"))));
        Assert.Equal(["org/repo-000"], Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=-5"))));
        Assert.Equal(["org/repo-000"], Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=1"))));
        Assert.Equal(7, Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=7"))).Length);
        var clamped = Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=1000")));
        Assert.Equal(200, clamped.Length);
        Assert.Equal("org/repo-199", clamped[^1]);
        Assert.Equal(200, Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos?limit=99999999999999"))).Length);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_NonNumericLimit_400InvalidLimit()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());

        await Cases.CheckAllAsync(
            ["abc", "1.5", "10abc", "0x10", " ", "1e3"],
            async limit => ApiAssert.Error(await ApiClient.GetAsync(client, "/repos?limit=" + Uri.EscapeDataString(limit)), HttpStatusCode.BadRequest, "BAD_REQUEST", "Invalid limit"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_OtherUsersRepos_NeverListed()
    {
        await using var server = await ServerFixture.StartAsync();
        await server.CreateRepoAsync(user: "alice", fullName: "alice/secret");
        await server.CreateRepoAsync(user: "bob", fullName: "bob/app");
        var bob = server.Client(await server.CreateTokenAsync("bob"));

        Assert.Equal(["bob/app"], Names(ApiAssert.Ok(await ApiClient.GetAsync(bob, "/repos"))));
        Assert.Empty(Names(ApiAssert.Ok(await ApiClient.GetAsync(bob, "/repos?q=secret"))));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task ListRepos_RemovedRepo_NotListed()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var gone = await server.CreateRepoAsync(fullName: "acme/gone");
        await server.CreateRepoAsync(fullName: "acme/kept");
        await server.Store.Repos.RemoveRepoAsync(gone, server.Time.GetUtcNow(), ServerFixture.Ct);

        Assert.Equal(["acme/kept"], Names(ApiAssert.Ok(await ApiClient.GetAsync(client, "/repos"))));
        ApiAssert.Error(await ApiClient.StartRunAsync(client, new { repoId = gone, prompt = "x" }), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found");
    }

    private static string[] Names(JsonElement data) => [.. data.GetProperty("repos").EnumerateArray().Select(r => r.GetProperty("full_name").GetString()!)];
}
