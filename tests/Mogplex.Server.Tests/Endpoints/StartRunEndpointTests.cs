using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Endpoints;

/// <summary><c>POST /runs</c>: every validation message, defaults, harnesses, idempotency.</summary>
public sealed class StartRunEndpointTests
{
    private const string RepoPlaceholder = "$REPO";

    private static readonly (string Body, string Message)[] s_invalidBodies =
    [
        ("{}", "repoId is required"),
        ("""{"repoId":null,"prompt":"x"}""", "repoId is required"),
        ("""{"repoId":"","prompt":"x"}""", "repoId is required"),
        ("""{"repoId":"   ","prompt":"x"}""", "repoId is required"),
        ("""{"repoId":42,"prompt":"x"}""", "repoId is required"),
        ("""{"repoId":"$REPO"}""", "Prompt is required"),
        ("""{"repoId":"$REPO","prompt":null}""", "Prompt is required"),
        ("""{"repoId":"$REPO","prompt":""}""", "Prompt is required"),
        ("""{"repoId":"$REPO","prompt":" \n\t "}""", "Prompt is required"),
        ("""{"repoId":"$REPO","prompt":["x"]}""", "Prompt is required"),
        ("""{"repoId":"$REPO","prompt":"x","harness":"gpt"}""", "Invalid harness"),
        ("""{"repoId":"$REPO","prompt":"x","harness":"Codex"}""", "Invalid harness"),
        ("""{"repoId":"$REPO","prompt":"x","harness":""}""", "Invalid harness"),
        ("""{"repoId":"$REPO","prompt":"x","harness":7}""", "Invalid harness"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a..b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"HEAD"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"@"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"-main"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"/main"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"main/"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"main."}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"main.lock"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a//b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a@{b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a~1"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a^"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a:b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a?"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a*"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a[b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a\\b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"caf\u00e9"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"a\u0001b"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":""}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":5}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","workingBranch":"feat..x"}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","workingBranch":"feat/x.lock"}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","workingBranch":true}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","workingBranch":"-x"}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","workingBranch":"--orphan"}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","createBranch":true,"workingBranch":" -b "}""", "Invalid working branch"),
        ("""{"repoId":"$REPO","prompt":"x","baseBranch":"--upload-pack"}""", "Invalid base branch"),
        ("""{"repoId":"$REPO","prompt":"x","createBranch":true,"workingBranch":"main"}""", "Working branch must differ from base branch when createBranch is true"),
        ("""{"repoId":"$REPO","prompt":"x","createBranch":true,"baseBranch":"dev","workingBranch":" dev "}""", "Working branch must differ from base branch when createBranch is true"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"../x"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"a/../../b"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"/etc"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"a/%2e%2e/b"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"a\u0000b"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":"..\\x"}""", "Invalid root directory"),
        ("""{"repoId":"$REPO","prompt":"x","rootDirectory":5}""", "Invalid root directory"),
        ("not json", "Invalid JSON body"),
        ("", "Invalid JSON body"),
        ("[1,2]", "Invalid JSON body"),
        ("\"text\"", "Invalid JSON body"),
        ("null", "Invalid JSON body"),
        ("""{"repoId":"$REPO","prompt":"x",}""", "Invalid JSON body"),
        ("""{"repoId":"$REPO","prompt":"x"} trailing""", "Invalid JSON body"),
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_InvalidBody_400WithDocumentedMessage()
    {
        await using var server = await ServerFixture.StartAsync(RaisedRequestLimit);
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        await Cases.CheckAllAsync(s_invalidBodies, async c =>
        {
            var reply = await ApiClient.PostAsync(client, "/runs", c.Body.Replace(RepoPlaceholder, repo, StringComparison.Ordinal), Key("k"));
            ApiAssert.Error(reply, HttpStatusCode.BadRequest, "BAD_REQUEST", c.Message);
        });

        Assert.Equal(0, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_MissingOrBlankIdempotencyKey_400()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        await Cases.CheckAllAsync(["(missing)", "", "   ", "\t", " \t "], async key =>
        {
            var reply = await ApiClient.PostAsync(client, "/runs", Body(repo), key == "(missing)" ? null : Key(key));
            ApiAssert.Error(reply, HttpStatusCode.BadRequest, "BAD_REQUEST", "Idempotency-Key is required");
        });

        Assert.Equal(0, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_IdempotencyKeyLength_200AcceptedAnd201Rejected()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        ApiAssert.Error(
            await ApiClient.PostAsync(client, "/runs", Body(repo), Key(new string('k', 201))),
            HttpStatusCode.BadRequest,
            "BAD_REQUEST",
            "Idempotency-Key exceeds maximum length of 200 characters");
        ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", Body(repo), Key(new string('k', 200))), HttpStatusCode.Accepted);

        // Trimmed before measuring: 200 characters with surrounding spaces is the same key.
        var replay = ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", Body(repo), Key("  " + new string('k', 200) + "  ")), HttpStatusCode.Accepted);
        Assert.True(replay.GetProperty("replayed").GetBoolean());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_PromptLength_100000AcceptedAnd100001Rejected()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        ApiAssert.Error(
            await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = new string('p', 100_001) }),
            HttpStatusCode.BadRequest,
            "BAD_REQUEST",
            "Prompt is too long");
        ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = new string('p', 100_000) }), HttpStatusCode.Accepted);

        // Measured after trimming.
        ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "   " + new string('q', 100_000) + "\n\n" }), HttpStatusCode.Accepted);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_UnknownOrMalformedRepo_404RepoNotFound()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        await server.CreateRepoAsync();

        await Cases.CheckAllAsync(
            ["00000000-0000-0000-0000-000000000000", "0198c0de-0000-7000-8000-000000000000", "abc", "0198c0de00007000800000000000000", "../../etc/passwd", new string('f', 5000)],
            async repoId => ApiAssert.Error(await ApiClient.StartRunAsync(client, new { repoId, prompt = "x" }), HttpStatusCode.NotFound, "NOT_FOUND", "Repo not found"));
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_Defaults_FromRepo()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(defaultBranch: "develop", rootDirectory: "packages/web");

        var run = ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x" }), HttpStatusCode.Accepted);

        Assert.Equal("codex", run.GetProperty("harness").GetString());
        Assert.Equal("develop", run.GetProperty("branch").GetProperty("base").GetString());
        Assert.Equal("develop", run.GetProperty("branch").GetProperty("working").GetString());
        Assert.False(run.GetProperty("branch").GetProperty("createBranch").GetBoolean());
        Assert.Equal("packages/web", run.GetProperty("rootDirectory").GetString());
        Assert.Equal("pending", run.GetProperty("status").GetString());
        Assert.False(run.GetProperty("replayed").GetBoolean());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_RepoWithoutDefaultBranch_BaseIsMain()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(defaultBranch: "");

        var run = ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x" }), HttpStatusCode.Accepted);

        Assert.Equal("main", run.GetProperty("branch").GetProperty("base").GetString());
        Assert.Equal("main", run.GetProperty("branch").GetProperty("working").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_RootDirectory_NormalizedOrRepoDefault()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync(rootDirectory: "packages/web");
        (string Fragment, string Expected)[] cases =
        [
            (",\"rootDirectory\":null", ""),
            (",\"rootDirectory\":\"\"", ""),
            (",\"rootDirectory\":\".\"", ""),
            (",\"rootDirectory\":\"./\"", ""),
            (",\"rootDirectory\":\"./apps//api/\"", "apps/api"),
            (",\"rootDirectory\":\"apps/./api\"", "apps/api"),
            (",\"rootDirectory\":\"  apps/api \"", "apps/api"),
            (",\"rootDirectory\":\" \"", ""),
            ("", "packages/web"),
        ];

        await Cases.CheckAllAsync(cases, async c =>
        {
            var reply = await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"x"{{c.Fragment}}}""", Key(Guid.NewGuid().ToString()));
            Assert.Equal(c.Expected, ApiAssert.Ok(reply, HttpStatusCode.Accepted).GetProperty("rootDirectory").GetString());
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_CreateBranch_TrueOnlyForJsonTrue()
    {
        await using var server = await ServerFixture.StartAsync(RaisedRunStartLimits);
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        (string Value, bool Expected)[] cases = [("true", true), ("false", false), ("\"true\"", false), ("\"yes\"", false), ("1", false), ("null", false), ("{}", false), ("[true]", false)];

        await Cases.CheckAllAsync(cases, async c =>
        {
            var reply = await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"x","workingBranch":"feature/x","createBranch":{{c.Value}}}""", Key(Guid.NewGuid().ToString()));
            var branch = ApiAssert.Ok(reply, HttpStatusCode.Accepted).GetProperty("branch");
            Assert.Equal(c.Expected, branch.GetProperty("createBranch").GetBoolean());
            Assert.Equal("main", branch.GetProperty("base").GetString());
            Assert.Equal("feature/x", branch.GetProperty("working").GetString());
        });
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_ExplicitFields_TrimmedAndStored()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var run = ApiAssert.Ok(
            await ApiClient.StartRunAsync(client, new { repoId = " " + repo + " ", prompt = "x", harness = " claude-code ", baseBranch = " release/1.x ", workingBranch = " fix/a ", createBranch = true }),
            HttpStatusCode.Accepted);

        Assert.Equal(repo, run.GetProperty("repoId").GetString());
        Assert.Equal("claude-code", run.GetProperty("harness").GetString());
        Assert.Equal("release/1.x", run.GetProperty("branch").GetProperty("base").GetString());
        Assert.Equal("fix/a", run.GetProperty("branch").GetProperty("working").GetString());
        Assert.True(run.GetProperty("branch").GetProperty("createBranch").GetBoolean());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_CreateBranchWithoutName_GeneratesDatedSlugBranch_StableOnReplay()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var body = new { repoId = repo, prompt = "Fix the login bug! (urgent)", createBranch = true };

        var first = ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "gen-1"), HttpStatusCode.Accepted);
        server.Time.Advance(TimeSpan.FromDays(2));
        var replay = ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "gen-1"), HttpStatusCode.Accepted);
        var later = ApiAssert.Ok(await ApiClient.StartRunAsync(client, body, "gen-2"), HttpStatusCode.Accepted);

        Assert.Equal("mogplex/run/2026-11-29/fix-the-login-bug-urgent", first.GetProperty("branch").GetProperty("working").GetString());
        Assert.Equal("main", first.GetProperty("branch").GetProperty("base").GetString());
        Assert.True(first.GetProperty("branch").GetProperty("createBranch").GetBoolean());
        Assert.True(replay.GetProperty("replayed").GetBoolean());
        Assert.Equal(first.GetProperty("runId").GetString(), replay.GetProperty("runId").GetString());
        Assert.Equal("mogplex/run/2026-11-29/fix-the-login-bug-urgent", replay.GetProperty("branch").GetProperty("working").GetString());
        Assert.Equal("mogplex/run/2026-12-01/fix-the-login-bug-urgent", later.GetProperty("branch").GetProperty("working").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_GeneratedBranchAlreadyInMirror_GetsHashSuffix()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        await CreateMirrorWithBranchAsync(server, repo, "mogplex/run/2026-11-29/add-tests");

        var run = ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "Add tests", createBranch = true }), HttpStatusCode.Accepted);

        Assert.Matches("^mogplex/run/2026-11-29/add-tests-[0-9a-f]{6}$", run.GetProperty("branch").GetProperty("working").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_ExecHarness_AllowedInDevMode()
    {
        await using var server = await ServerFixture.StartAsync(dev: true);
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var run = ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "exec" }), HttpStatusCode.Accepted);

        Assert.Equal("exec", run.GetProperty("harness").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_ExecHarness_RejectedWithoutDevOrConfig()
    {
        await using var server = await ServerFixture.StartAsync(dev: false);
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        ApiAssert.Error(
            await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "exec" }),
            HttpStatusCode.BadRequest,
            "BAD_REQUEST",
            "Invalid harness");
        ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "codex" }), HttpStatusCode.Accepted);
        ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "claude-code" }), HttpStatusCode.Accepted);
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_ExecHarness_AllowedWhenOperatorEnablesIt()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Harnesses:ExecEnabled"] = "true" }, dev: false);
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var run = ApiAssert.Ok(await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x", harness = "exec" }), HttpStatusCode.Accepted);

        Assert.Equal("exec", run.GetProperty("harness").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_SameKeySameBody_ReplaysOriginalRun()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var first = ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"Fix it"}""", Key("same")), HttpStatusCode.Accepted);
        server.Time.Advance(TimeSpan.FromMinutes(5));
        var second = ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"Fix it"}""", Key("same")), HttpStatusCode.Accepted);

        Assert.False(first.GetProperty("replayed").GetBoolean());
        Assert.True(second.GetProperty("replayed").GetBoolean());
        Assert.Equal(first.GetProperty("runId").GetString(), second.GetProperty("runId").GetString());
        Assert.Equal(first.GetProperty("createdAt").GetString(), second.GetProperty("createdAt").GetString());
        var runs = ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs");
        Assert.Equal(1, runs.GetArrayLength());
        var events = ApiAssert.Ok(await ApiClient.GetAsync(client, $"/runs/{first.GetProperty("runId").GetString()}/events")).GetProperty("events");
        Assert.Equal(1, events.GetArrayLength());
    }

    private static readonly string[] s_equivalentBodies =
    [
        // Key order and whitespace.
        """{ "prompt" : "Fix it" ,  "repoId" : "$REPO" }""",
        // Trimming.
        """{"repoId":"  $REPO  ","prompt":"\n  Fix it \t"}""",
        // Explicit defaults.
        """{"repoId":"$REPO","prompt":"Fix it","harness":"codex","baseBranch":"main","workingBranch":"main","createBranch":false,"rootDirectory":""}""",
        """{"repoId":"$REPO","prompt":"Fix it","harness":null,"baseBranch":null,"workingBranch":null,"createBranch":null,"rootDirectory":null}""",
        """{"repoId":"$REPO","prompt":"Fix it","harness":" codex ","baseBranch":" main ","rootDirectory":"./"}""",
        """{"repoId":"$REPO","prompt":"Fix it","workingBranch":" main ","rootDirectory":"  "}""",
        // createBranch values other than JSON true mean false.
        """{"repoId":"$REPO","prompt":"Fix it","createBranch":"true"}""",
        // Unknown fields are not part of the request.
        """{"repoId":"$REPO","prompt":"Fix it","extra":123}""",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_SameKeyEquivalentBody_Replays()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var first = ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"Fix it"}""", Key("k1")), HttpStatusCode.Accepted);

        await Cases.CheckAllAsync(s_equivalentBodies, async equivalent =>
        {
            var second = ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", equivalent.Replace(RepoPlaceholder, repo, StringComparison.Ordinal), Key(" k1 ")), HttpStatusCode.Accepted);
            Assert.True(second.GetProperty("replayed").GetBoolean());
            Assert.Equal(first.GetProperty("runId").GetString(), second.GetProperty("runId").GetString());
        });

        Assert.Equal(1, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
    }

    private static readonly string[] s_differentBodies =
    [
        """{"repoId":"$REPO","prompt":"Fix it!"}""",
        """{"repoId":"$REPO","prompt":"fix it"}""",
        """{"repoId":"$OTHER","prompt":"Fix it"}""",
        """{"repoId":"$REPO","prompt":"Fix it","harness":"claude-code"}""",
        """{"repoId":"$REPO","prompt":"Fix it","baseBranch":"dev"}""",
        """{"repoId":"$REPO","prompt":"Fix it","workingBranch":"feature"}""",
        """{"repoId":"$REPO","prompt":"Fix it","workingBranch":"feature","createBranch":true}""",
        """{"repoId":"$REPO","prompt":"Fix it","rootDirectory":"apps"}""",
        """{"repoId":"$REPO","prompt":"Fix it","conversationId":"c1"}""",
        """{"repoId":"$REPO","prompt":"Fix it","workspaceSessionId":"w1"}""",
        """{"repoId":"$REPO","prompt":"Fix it","mode":"plan"}""",
    ];

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_SameKeyDifferentBody_409IdempotencyConflict()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        var other = await server.CreateRepoAsync(fullName: "acme/other");
        ApiAssert.Ok(await ApiClient.PostAsync(client, "/runs", $$"""{"repoId":"{{repo}}","prompt":"Fix it"}""", Key("k1")), HttpStatusCode.Accepted);

        await Cases.CheckAllAsync(s_differentBodies, async different =>
        {
            var reply = await ApiClient.PostAsync(client, "/runs", different.Replace(RepoPlaceholder, repo, StringComparison.Ordinal).Replace("$OTHER", other, StringComparison.Ordinal), Key("k1"));
            ApiAssert.Error(reply, HttpStatusCode.Conflict, "IDEMPOTENCY_CONFLICT", "Idempotency key already used for a different request");
        });

        Assert.Equal(1, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_KeysArePerUser()
    {
        await using var server = await ServerFixture.StartAsync();
        var alice = server.Client(await server.CreateTokenAsync("alice"));
        var bob = server.Client(await server.CreateTokenAsync("bob"));
        var aliceRepo = await server.CreateRepoAsync("alice");
        var bobRepo = await server.CreateRepoAsync("bob");

        var a = ApiAssert.Ok(await ApiClient.StartRunAsync(alice, new { repoId = aliceRepo, prompt = "x" }, "shared-key"), HttpStatusCode.Accepted);
        var b = ApiAssert.Ok(await ApiClient.StartRunAsync(bob, new { repoId = bobRepo, prompt = "x" }, "shared-key"), HttpStatusCode.Accepted);

        Assert.False(b.GetProperty("replayed").GetBoolean());
        Assert.NotEqual(a.GetProperty("runId").GetString(), b.GetProperty("runId").GetString());
        Assert.Equal(bobRepo, b.GetProperty("repoId").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_KeysAreSharedAcrossTokensOfOneUser()
    {
        await using var server = await ServerFixture.StartAsync();
        var first = server.Client(await server.CreateTokenAsync());
        var second = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var a = ApiAssert.Ok(await ApiClient.StartRunAsync(first, new { repoId = repo, prompt = "x" }, "k"), HttpStatusCode.Accepted);
        var b = ApiAssert.Ok(await ApiClient.StartRunAsync(second, new { repoId = repo, prompt = "x" }, "k"), HttpStatusCode.Accepted);

        Assert.True(b.GetProperty("replayed").GetBoolean());
        Assert.Equal(a.GetProperty("runId").GetString(), b.GetProperty("runId").GetString());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_ConcurrentDuplicates_ExactlyOneRun()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x" }, "race")));

        var data = replies.Select(r => ApiAssert.Ok(r, HttpStatusCode.Accepted)).ToList();
        Assert.Single(data.Select(d => d.GetProperty("runId").GetString()).Distinct());
        Assert.Equal(1, data.Count(d => !d.GetProperty("replayed").GetBoolean()));
        Assert.Equal(1, ApiAssert.Ok(await ApiClient.GetAsync(client, "/runs")).GetProperty("runs").GetArrayLength());
    }

    [Fact(Timeout = TestTimeouts.Api)]
    public async Task StartRun_WithoutContentType_StillValidated()
    {
        await using var server = await ServerFixture.StartAsync();
        var client = server.Client(await server.CreateTokenAsync());
        var repo = await server.CreateRepoAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiClient.Base + "/runs")
        {
            Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes($$"""{"repoId":"{{repo}}","prompt":"x"}""")),
        };
        request.Headers.Add("Idempotency-Key", "no-ct");

        using var response = await client.SendAsync(request, ServerFixture.Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ServerFixture.Ct));
        Assert.Equal("pending", doc.RootElement.GetProperty("data").GetProperty("status").GetString());
    }

    private static Dictionary<string, string?> RaisedRequestLimit => new() { ["RateLimits:RequestsPerWindow"] = "1000" };

    private static Dictionary<string, string?> RaisedRunStartLimits => new()
    {
        ["RateLimits:RequestsPerWindow"] = "1000",
        ["RateLimits:RunStartsPerMinute"] = "1000",
        ["RateLimits:RunStartsPerHour"] = "1000",
        ["RateLimits:RunStartsPerDay"] = "1000",
    };

    private static string Body(string repo) => $$"""{"repoId":"{{repo}}","prompt":"x"}""";

    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    private static async Task CreateMirrorWithBranchAsync(ServerFixture server, string repoId, string branch)
    {
        var mirror = Path.Combine(server.DataDir, "repos", repoId + ".git");
        var work = Path.Combine(server.DataDir, "work-" + repoId);
        await GitAsync(null, "init", "--quiet", "--bare", mirror);
        await GitAsync(null, "init", "--quiet", work);
        await GitAsync(work, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "--quiet", "--allow-empty", "-m", "init");
        await GitAsync(work, "push", "--quiet", mirror, "HEAD:refs/heads/" + branch);
    }

    private static async Task GitAsync(string? cwd, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (cwd is not null)
        {
            psi.WorkingDirectory = cwd;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(ServerFixture.Ct);
        await process.StandardOutput.ReadToEndAsync(ServerFixture.Ct);
        await process.WaitForExitAsync(ServerFixture.Ct);
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)} failed: {await stderr}");
    }
}
