using System.Net;
using System.Text;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Hostile;

/// <summary>
/// Bad input on every input path (bodies, query strings, path ids, headers). Every answer must be
/// the documented error envelope with the documented code and message, never a 500, and a rejected
/// request must leave nothing behind: no run, no sandbox, no burnt idempotency key, no spent budget.
/// </summary>
public sealed class HostileInputTests(HostileInputTests.SharedServer shared) : IClassFixture<HostileInputTests.SharedServer>
{
    private const string BadRequest = "BAD_REQUEST";
    private const string NotFound = "NOT_FOUND";
    private const string InvalidJson = "Invalid JSON body";
    private const string RepoPlaceholder = "{repo}";
    private const string RunPlaceholder = "{run}";
    private const string SqlInjection = "' OR 1=1 --";

    private static readonly Dictionary<string, HostileCase> s_cases = BuildCases();

    private readonly SharedServer _shared = shared;

    /// <summary>The server the data-driven cases share.</summary>
    public sealed class SharedServer : IAsyncLifetime
    {
        private ServerFixture? _server;

        public ServerFixture Server => _server ?? throw new InvalidOperationException("Not started.");

        public async ValueTask InitializeAsync() => _server = await ServerFixture.StartAsync();

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    /// <summary>One hostile request and its documented answer.</summary>
    /// <param name="Body">Builds the raw body from the caller's repo id; null sends no body.</param>
    /// <param name="AddKey">Adds a fresh valid Idempotency-Key (POST /runs), so the case reaches body validation.</param>
    public sealed record HostileCase(
        string Name,
        HttpMethod Method,
        string Path,
        Func<string, byte[]?> Body,
        IReadOnlyList<KeyValuePair<string, string>> Headers,
        bool AddKey,
        HttpStatusCode Status,
        string Code,
        string? Message);

    public static TheoryData<string> CaseNames => [.. s_cases.Keys];

    /// <summary>
    /// Hundreds of cases share one server (a server per case would take minutes); each case gets
    /// its own user, token and repo, so the "nothing stored" checks see only that case.
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Api_HostileInput_AnswersDocumentedEnvelopeAndStoresNothing(string name)
    {
        var c = s_cases[name];
        var server = _shared.Server;
        var user = "hostile-" + Guid.NewGuid().ToString("N");
        var userId = await server.UserIdAsync(user);
        var token = await server.CreateTokenAsync(user);
        var repo = await server.CreateRepoAsync(user);
        using var client = RawApi.CreateClient(server, token);
        var expectedRuns = new List<string>();
        var path = c.Path.Replace(RepoPlaceholder, repo, StringComparison.Ordinal);
        if (path.Contains(RunPlaceholder, StringComparison.Ordinal))
        {
            var run = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "setup" });
            expectedRuns.Add(run.Data.GetProperty("runId").GetString()!);
            path = path.Replace(RunPlaceholder, expectedRuns[0], StringComparison.Ordinal);
        }

        var key = Guid.NewGuid().ToString();
        var headers = c.Headers.ToList();
        if (c.AddKey)
        {
            headers.Add(new("Idempotency-Key", key));
        }

        var body = c.Body(repo);
        var reply = await RawApi.SendAsync(client, c.Method, path, body is null ? null : RawApi.Bytes(body), headers);

        RawApi.AssertError(reply, c.Status, c.Code, c.Message);
        Assert.Matches("^[0-9a-f]{32}$", reply.Header("X-Request-Id"));

        // Nothing was stored.
        var runs = await server.Store.Runs.ListRunsAsync(new RunQuery(userId, null, null, 100, null), ServerFixture.Ct);
        Assert.Equal(expectedRuns, runs.Select(r => r.Id));
        Assert.Empty(await server.Store.Sandboxes.ListAsync(new SandboxQuery(userId, null, null, 100), ServerFixture.Ct));

        // The key was not reserved by the rejected request, and the server still serves.
        var valid = await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "after the hostile request" }, key);
        Assert.Equal(HttpStatusCode.Accepted, valid.Status);
        Assert.False(valid.Data.GetProperty("replayed").GetBoolean());
    }

    [Fact]
    public async Task StartRun_BodyOverDefaultLimit_Answers413AndStoresNothing()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);

        // A 1 MB field inside a body still under the 1 MiB default: the field rule answers.
        var nearLimit = await PostRunAsync(client, Body(repo, prompt: new string('p', 1_000_000)));
        RawApi.AssertError(nearLimit, HttpStatusCode.BadRequest, BadRequest, "Prompt is too long");

        // Over the limit, with a Content-Length (refused unread) and chunked (refused once the
        // limit is read): 413, still the envelope.
        var sized = await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(Body(repo, prompt: new string('p', 1_100_000))), Key(), expectContinue: true);
        RawApi.AssertError(sized, HttpStatusCode.RequestEntityTooLarge, BadRequest, "Request body exceeds the maximum size of 1048576 bytes");
        var chunked = await RawApi.SendAsync(client, HttpMethod.Post, "/runs", Chunked(Body(repo, prompt: new string('p', 1_050_000))), Key(), expectContinue: true);
        RawApi.AssertError(chunked, HttpStatusCode.RequestEntityTooLarge, BadRequest, "Request body exceeds the maximum size of 1048576 bytes");

        Assert.Empty(await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct));
    }

    [Fact]
    public async Task StartRun_HugeFieldsUnderRaisedBodyLimit_AnswerFieldMessages()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Api:MaxBodyBytes"] = (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);
        var twoMb = new string('x', 2_000_000);

        RawApi.AssertError(await PostRunAsync(client, Body(repo, prompt: twoMb)), HttpStatusCode.BadRequest, BadRequest, "Prompt is too long");
        RawApi.AssertError(await PostRunAsync(client, Body(repo, ("mode", twoMb))), HttpStatusCode.BadRequest, BadRequest, "Invalid mode");
        RawApi.AssertError(await PostRunAsync(client, Body(repo, ("baseBranch", twoMb))), HttpStatusCode.BadRequest, BadRequest, "Invalid base branch");
        RawApi.AssertError(await PostRunAsync(client, Body(repo, ("rootDirectory", twoMb))), HttpStatusCode.BadRequest, BadRequest, "Invalid root directory");
        RawApi.AssertError(await PostRunAsync(client, Body(twoMb)), HttpStatusCode.NotFound, NotFound, "Repo not found");
        RawApi.AssertError(
            await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(Body(repo, prompt: new string('x', 5_000_000))), Key(), expectContinue: true),
            HttpStatusCode.RequestEntityTooLarge,
            BadRequest,
            "Request body exceeds the maximum size of 4194304 bytes");

        // The raised limit really applies: a 3 MB body with a valid, long-but-allowed prompt is accepted.
        var accepted = await PostRunAsync(client, Body(repo, prompt: new string('y', 100_000), ("conversationId", "c"), ("padding", twoMb)));
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
        Assert.Single(await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct));
    }

    [Fact]
    public async Task StartRun_PromptBoundaries_100000AcceptedAfterTrim100001Rejected()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);

        RawApi.AssertError(await PostRunAsync(client, Body(repo, prompt: new string('a', 100_001))), HttpStatusCode.BadRequest, BadRequest, "Prompt is too long");

        // Counted after trimming, in UTF-16 code units.
        var exact = await PostRunAsync(client, Body(repo, prompt: "  \n" + new string('a', 100_000) + "\t "));
        Assert.Equal(HttpStatusCode.Accepted, exact.Status);
        var emoji = string.Concat(Enumerable.Repeat("😀", 50_001));
        RawApi.AssertError(await PostRunAsync(client, Body(repo, prompt: emoji)), HttpStatusCode.BadRequest, BadRequest, "Prompt is too long");
    }

    [Fact]
    public async Task StartRun_TolerableOddities_AcceptedWithDocumentedMeaning()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RunStartsPerMinute"] = "100" });
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);

        // createBranch is true only for JSON true.
        foreach (var notTrue in new object[] { "true", 1, new[] { true }, new Dictionary<string, bool> { ["x"] = true } })
        {
            var reply = await PostRunAsync(client, Body(repo, ("createBranch", notTrue), ("workingBranch", "feature/x")));
            Assert.Equal(HttpStatusCode.Accepted, reply.Status);
            Assert.False(reply.Json().GetProperty("data").GetProperty("branch").GetProperty("createBranch").GetBoolean());
        }

        // Unicode directories are ordinary names; ./, repeated and trailing slashes normalize.
        foreach (var (root, normalized) in new[] { ("ü/docs", "ü/docs"), ("./a//b/", "a/b"), ("docs/😀", "docs/😀"), (".", ""), ("./", "") })
        {
            var reply = await PostRunAsync(client, Body(repo, ("rootDirectory", root)));
            Assert.Equal(HttpStatusCode.Accepted, reply.Status);
            Assert.Equal(normalized, reply.Json().GetProperty("data").GetProperty("rootDirectory").GetString());
        }

        // Unknown fields are ignored; a body without Content-Type is still read as JSON.
        var extra = await PostRunAsync(client, Body(repo, ("__proto__", new { admin = true }), ("userId", "someone-else")));
        Assert.Equal(HttpStatusCode.Accepted, extra.Status);
        var untyped = await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(Body(repo), mediaType: null), Key());
        Assert.Equal(HttpStatusCode.Accepted, untyped.Status);
    }

    [Fact]
    public async Task IdempotencyKey_UnicodeAndBoundaryLengths_AcceptedTrimmedAndReplayed()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);

        const string unicode = "ключ-ü-🔑-鍵";
        var first = await PostRunAsync(client, Body(repo), unicode);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        var replay = await PostRunAsync(client, Body(repo), "  " + unicode + " ");
        Assert.Equal(HttpStatusCode.Accepted, replay.Status);
        Assert.True(replay.Json().GetProperty("data").GetProperty("replayed").GetBoolean());
        Assert.Equal(RunId(first), RunId(replay));

        // Exactly 200 characters is allowed; 201 and 10,000 are not (see the data-driven cases too).
        var longest = await PostRunAsync(client, Body(repo, prompt: "two"), new string('k', 200));
        Assert.Equal(HttpStatusCode.Accepted, longest.Status);
        RawApi.AssertError(
            await PostRunAsync(client, Body(repo, prompt: "three"), new string('k', 201)),
            HttpStatusCode.BadRequest,
            BadRequest,
            "Idempotency-Key exceeds maximum length of 200 characters");

        // SQL in a key is just a key.
        var sql = await PostRunAsync(client, Body(repo, prompt: "four"), "'); DROP TABLE runs; --");
        Assert.Equal(HttpStatusCode.Accepted, sql.Status);
        Assert.Equal(3, (await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct)).Count);
    }

    [Fact]
    public async Task ListQueries_OutOfRangeLimitsAndLiteralSearch_ClampAndMatchNothingExtra()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync(fullName: "acme/api");
        await server.CreateRepoAsync(fullName: "acme/web");
        await server.CreateRepoAsync(fullName: "other/tool");

        using var client = RawApi.CreateClient(server, token);

        async Task<int> CountReposAsync(string query)
        {
            var reply = await RawApi.SendAsync(client, HttpMethod.Get, "/repos?" + query);
            Assert.True(reply.Status == HttpStatusCode.OK, reply.Text);
            return reply.Json().GetProperty("data").GetProperty("repos").GetArrayLength();
        }

        Assert.Equal(1, await CountReposAsync("limit=-1"));
        Assert.Equal(1, await CountReposAsync("limit=0"));
        Assert.Equal(1, await CountReposAsync("limit=-99999999999999999999"));
        Assert.Equal(2, await CountReposAsync("limit=%2B2"));
        Assert.Equal(3, await CountReposAsync("limit=9223372036854775807"));
        Assert.Equal(3, await CountReposAsync("limit=99999999999999999999"));
        Assert.Equal(3, await CountReposAsync("limit="));

        // q is a literal, case-insensitive substring: no wildcards, no SQL.
        Assert.Equal(0, await CountReposAsync("q=" + Uri.EscapeDataString(SqlInjection)));
        Assert.Equal(0, await CountReposAsync("q=%25"));
        Assert.Equal(0, await CountReposAsync("q=_"));
        Assert.Equal(0, await CountReposAsync("q=" + Uri.EscapeDataString("%api")));
        Assert.Equal(2, await CountReposAsync("q=ACME%2F"));
        Assert.Equal(0, await CountReposAsync("q=" + Uri.EscapeDataString("ü😀\u0000")));

        // repo_id that is not an id (or is SQL) matches nothing, for runs and sandboxes alike.
        await ApiClient.StartRunAsync(client, new { repoId = repo, prompt = "x" });
        foreach (var path in new[] { "/runs", "/sandboxes" })
        {
            foreach (var repoId in new[] { SqlInjection, "1 OR 1=1", "%", Guid.NewGuid().ToString() })
            {
                var reply = await RawApi.SendAsync(client, HttpMethod.Get, $"{path}?repo_id={Uri.EscapeDataString(repoId)}");
                Assert.Equal(HttpStatusCode.OK, reply.Status);
                Assert.Equal(0, reply.Json().GetProperty("data").GetProperty(path[1..]).GetArrayLength());
            }
        }

        var all = await RawApi.SendAsync(client, HttpMethod.Get, "/runs?limit=-5");
        Assert.Equal(1, all.Json().GetProperty("data").GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task Authorization_HostileHeaders_OneUnauthorizedAnswer()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        using var client = RawApi.CreateClient(server);
        string[] hostile =
        [
            "Bearer " + new string('a', 10_000),
            "Bearer mog_" + new string('A', 10_000),
            "Bearer ",
            "Bearer",
            "Bearer mog_",
            "Bearer mog_" + "!@#$%^&*()-_=+[]{};:'\",.<>/?\\|`~",
            "Bearer mog_" + new string('ü', 32),
            "Bearer mog_" + token[4..^1],
            "Bearer " + token + "x",
            "Bearer " + token[..^1] + (token[^1] == 'a' ? 'b' : 'a'),
            "Bearer mog_" + SqlInjection.PadRight(32, 'a'),
            "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + token)),
            token,
            "Token " + token,
            "Bearer " + token + ", Bearer " + token,
        ];

        foreach (var value in hostile)
        {
            var reply = await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes("{\"repoId\":1}"u8.ToArray()), [new("Authorization", value), new("Idempotency-Key", "k")]);
            RawApi.AssertError(reply, HttpStatusCode.Unauthorized, "UNAUTHORIZED", "Unauthorized");
            Assert.Equal("Bearer", reply.Header("WWW-Authenticate"));
        }

        // The scheme is case-insensitive and surrounding spaces are tolerated: the real token still works.
        var ok = await RawApi.SendAsync(client, HttpMethod.Get, "/repos", headers: [new("Authorization", "bearer   " + token + "  ")]);
        Assert.Equal(HttpStatusCode.OK, ok.Status);
    }

    [Fact]
    public async Task RequestId_HostileValues_NeverEchoedSaneOneIs()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        using var client = RawApi.CreateClient(server, token);
        string[] hostile =
        [
            "abc\\r\\nSet-Cookie: session=stolen",
            "abc%0d%0aSet-Cookie:%20session=stolen",
            "abc\u2028X-Injected: 1",
            new string('r', 10_000),
            new string('r', 129),
            "ключ",
            "<script>alert(1)</script>",
            SqlInjection,
            "a b",
        ];

        foreach (var value in hostile)
        {
            var reply = await RawApi.SendAsync(client, HttpMethod.Get, "/runs/not-a-uuid", headers: [new("X-Request-Id", value)]);
            RawApi.AssertError(reply, HttpStatusCode.NotFound, NotFound, "Run not found");
            var echoed = reply.Header("X-Request-Id");
            Assert.Matches("^[0-9a-f]{32}$", echoed);
            Assert.False(reply.Response.Headers.Contains("Set-Cookie"));
            Assert.False(reply.Response.Headers.Contains("X-Injected"));
        }

        var sane = await RawApi.SendAsync(client, HttpMethod.Get, "/repos", headers: [new("X-Request-Id", "req-123_abc.def:9")]);
        Assert.Equal("req-123_abc.def:9", sane.Header("X-Request-Id"));
        var longest = new string('r', 128);
        Assert.Equal(longest, (await RawApi.SendAsync(client, HttpMethod.Get, "/repos", headers: [new("X-Request-Id", longest)])).Header("X-Request-Id"));
    }

    [Fact]
    public async Task PathId_BeyondKestrelLimits_RejectedBeforeTheApiNotA500()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        using var client = RawApi.CreateClient(server, token);
        var huge = new string('a', 10_000);

        // Kestrel's request-line limit (8 KiB) answers before the API sees the request: 414, no envelope possible.
        foreach (var path in new[] { $"/runs/{huge}", $"/runs/{huge}/events", $"/sandboxes/{huge}/logs", $"/runs?cursor={huge}", $"/repos?q={huge}" })
        {
            var reply = await RawApi.SendAsync(client, HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.RequestUriTooLong, reply.Status);
        }

        // An encoded NUL in the path is refused by Kestrel itself (400, before routing).
        foreach (var path in new[] { $"/runs/{Unknown(1)}%00", $"/runs/%00/events", $"/sandboxes/a%00b/logs" })
        {
            var reply = await RawApi.SendAsync(client, HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        }

        // A long id the server does see is a plain 404.
        var seen = await RawApi.SendAsync(client, HttpMethod.Get, $"/runs/{new string('a', 7_000)}");
        RawApi.AssertError(seen, HttpStatusCode.NotFound, NotFound, "Run not found");
    }

    [Fact]
    public async Task ConcurrentHostileAndValid_ValidOnesAllSucceedAndStoreHoldsExactlyThem()
    {
        await using var server = await ServerFixture.StartAsync();
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        var clients = Enumerable.Range(0, 4).Select(_ => RawApi.CreateClient(server, token)).ToArray();
        try
        {
            // 20 bad bodies spread over the whole catalogue: malformed JSON, wrong types, branches, roots.
            var candidates = s_cases.Values
                .Where(c => c.Method == HttpMethod.Post && c.Path == "/runs" && c.AddKey && c.Status == HttpStatusCode.BadRequest)
                .ToArray();
            var malformed = Enumerable.Range(0, 20).Select(i => candidates[i * candidates.Length / 20]).ToArray();
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var tasks = new List<Task<(bool Valid, string Key, RawApi.RawReply Reply, HostileCase? Case)>>();
            var next = 0;
            for (var i = 0; i < 30; i++)
            {
                // Interleaved: every third request is valid (10 valid, the default per-minute start budget).
                var client = clients[i % clients.Length];
                var key = $"key-{i}";
                var hostile = i % 3 == 2 ? null : malformed[next++];
                tasks.Add(Task.Run(async () =>
                {
                    await gate.Task;
                    var body = hostile is null ? Body(repo, prompt: $"valid {key}") : hostile.Body(repo)!;
                    var headers = hostile?.Headers.Append(new("Idempotency-Key", key)) ?? Key(key);
                    return (hostile is null, key, await RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(body), headers), hostile);
                }));
            }

            gate.SetResult();
            var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(20), ServerFixture.Ct);

            var validRuns = new List<string>();
            foreach (var (valid, _, reply, hostile) in results)
            {
                if (valid)
                {
                    Assert.True(reply.Status == HttpStatusCode.Accepted, reply.Text);
                    validRuns.Add(reply.Json().GetProperty("data").GetProperty("runId").GetString()!);
                }
                else
                {
                    RawApi.AssertError(reply, hostile!.Status, hostile.Code, hostile.Message);
                }
            }

            Assert.Equal(10, validRuns.Distinct().Count());
            var stored = await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct);
            Assert.Equal(validRuns.Order(), stored.Select(r => r.Id).Order());
            foreach (var id in validRuns)
            {
                var events = await server.Store.Events.ListAsync(id, 0, 100, ServerFixture.Ct);
                Assert.Equal("started", Assert.Single(events).Type);
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
        }
    }

    [Fact]
    public async Task HostileRequests_ConsumeNoRunStartBudget_TenValidStartsStillFitTheMinute()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["RateLimits:RequestsPerWindow"] = "100000" });
        var token = await server.CreateTokenAsync();
        var repo = await server.CreateRepoAsync();
        using var client = RawApi.CreateClient(server, token);

        var count = 0;
        foreach (var c in s_cases.Values.Where(c => c.Method == HttpMethod.Post && c.Path == "/runs"))
        {
            var headers = c.Headers.ToList();
            if (c.AddKey)
            {
                headers.Add(new("Idempotency-Key", "shared-key"));
            }

            var body = c.Body(repo);
            var reply = await RawApi.SendAsync(client, c.Method, c.Path, body is null ? null : RawApi.Bytes(body), headers);
            RawApi.AssertError(reply, c.Status, c.Code, c.Message);
            count++;
        }

        Assert.True(count > 100, $"only {count} hostile POST /runs cases");
        Assert.Empty(await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct));

        // Every one of them used the same key: it is still free, and the whole minute budget is left.
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            var reply = await PostRunAsync(client, Body(repo, prompt: $"valid {i}"), i == 0 ? "shared-key" : null);
            Assert.True(reply.Status == HttpStatusCode.Accepted, reply.Text);
            Assert.False(reply.Json().GetProperty("data").GetProperty("replayed").GetBoolean());
            ids.Add(RunId(reply));
        }

        var denied = await PostRunAsync(client, Body(repo, prompt: "eleventh"));
        RawApi.AssertError(denied, HttpStatusCode.TooManyRequests, "RATE_LIMITED", "Run start limit exceeded (10 per minute). Retry after 60s.");
        var stored = await server.Store.Runs.ListRunsAsync(new RunQuery(null, null, null, 100, null), ServerFixture.Ct);
        Assert.Equal(ids.Order(), stored.Select(r => r.Id).Order());
    }

    private static Task<RawApi.RawReply> PostRunAsync(HttpClient client, byte[] body, string? key = null) =>
        RawApi.SendAsync(client, HttpMethod.Post, "/runs", RawApi.Bytes(body), Key(key));

    private static KeyValuePair<string, string>[] Key(string? key = null) => [new("Idempotency-Key", key ?? Guid.NewGuid().ToString())];

    private static string RunId(RawApi.RawReply reply) => reply.Json().GetProperty("data").GetProperty("runId").GetString()!;

    private static StreamContent Chunked(byte[] body)
    {
        // A stream of unknown length: HttpClient sends it chunked, so only reading can find the size.
        var content = new StreamContent(new UnknownLengthStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>A valid POST /runs (or /sandboxes) body with some fields replaced or added.</summary>
    private static byte[] Body(string repo, params (string Name, object? Value)[] fields) => Body(repo, "do it", fields);

    private static byte[] Body(string repo, string prompt, params (string Name, object? Value)[] fields)
    {
        var body = new Dictionary<string, object?> { ["repoId"] = repo, ["prompt"] = prompt };
        foreach (var (name, value) in fields)
        {
            body[name] = value;
        }

        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    private static Dictionary<string, HostileCase> BuildCases()
    {
        var cases = new Dictionary<string, HostileCase>(StringComparer.Ordinal);
        KeyValuePair<string, string>[] none = [];

        void Add(HostileCase c) => cases.Add(c.Name, c);

        void RunBody(string label, Func<string, byte[]?> body, string message, HttpStatusCode status = HttpStatusCode.BadRequest, string code = BadRequest) =>
            Add(new HostileCase($"POST /runs {label}", HttpMethod.Post, "/runs", body, none, true, status, code, message));

        void SandboxBody(string label, Func<string, byte[]?> body, string message, HttpStatusCode status = HttpStatusCode.BadRequest, string code = BadRequest) =>
            Add(new HostileCase($"POST /sandboxes {label}", HttpMethod.Post, "/sandboxes", body, none, false, status, code, message));

        void BothBodies(string label, Func<string, byte[]?> body, string message, HttpStatusCode status = HttpStatusCode.BadRequest, string code = BadRequest)
        {
            RunBody(label, body, message, status, code);
            SandboxBody(label, body, message, status, code);
        }

        void Get(string path, HttpStatusCode status, string code, string message) =>
            Add(new HostileCase($"GET {path}", HttpMethod.Get, path, _ => null, none, false, status, code, message));

        void Post(string path, HttpStatusCode status, string code, string message) =>
            Add(new HostileCase($"POST {path}", HttpMethod.Post, path, _ => null, none, false, status, code, message));

        static Func<string, byte[]?> Text(string template) => repo => Encoding.UTF8.GetBytes(template.Replace(RepoPlaceholder, repo, StringComparison.Ordinal));

        static Func<string, byte[]?> Field(string name, object? value) => repo => Body(repo, (name, value));

        static string Show(object? value) => JsonSerializer.Serialize(value) is var s && s.Length > 60 ? s[..60] + $"…({s.Length})" : JsonSerializer.Serialize(value);

        // ---- Malformed JSON: one message, "Invalid JSON body" ----
        const string valid = "{\"repoId\":\"{repo}\",\"prompt\":\"do it\"";
        var malformed = new (string Label, Func<string, byte[]?> Body)[]
        {
            ("truncated", Text(valid)),
            ("truncated in a string", Text("{\"repoId\":\"{rep")),
            ("truncated after a key", Text("{\"repoId\":")),
            ("trailing garbage", Text(valid + "} x")),
            ("two documents", Text(valid + "}{}")),
            ("trailing comma", Text(valid + ",}")),
            ("single quotes", Text("{'repoId':'{repo}','prompt':'do it'}")),
            ("unquoted keys", Text("{repoId:\"{repo}\",prompt:\"do it\"}")),
            ("line comment", Text("{\"repoId\":\"{repo}\", // comment\n\"prompt\":\"do it\"}")),
            ("block comment", Text("/* c */" + valid + "}")),
            ("NaN", Text(valid + ",\"createBranch\":NaN}")),
            ("Infinity", Text(valid + ",\"createBranch\":-Infinity}")),
            ("hex number", Text(valid + ",\"createBranch\":0x1}")),
            ("raw control char in string", Text("{\"repoId\":\"{repo}\",\"prompt\":\"a\u0001b\"}")),
            ("raw newline in string", Text("{\"repoId\":\"{repo}\",\"prompt\":\"a\nb\"}")),
            ("bad escape", Text("{\"repoId\":\"{repo}\",\"prompt\":\"a\\qb\"}")),
            ("short unicode escape", Text("{\"repoId\":\"{repo}\",\"prompt\":\"\\u12\"}")),
            ("BOM", repo => [0xEF, 0xBB, 0xBF, .. Text(valid + "}")(repo)!]),
            ("UTF-16 body", repo => Encoding.Unicode.GetBytes(valid.Replace(RepoPlaceholder, repo, StringComparison.Ordinal) + "}")),
            ("invalid UTF-8 in a value", repo => [.. Text("{\"repoId\":\"{repo}\",\"prompt\":\"a")(repo)!, 0xC3, 0x28, .. "\"}"u8]),
            ("lone 0xFF in a value", repo => [.. Text("{\"repoId\":\"{repo}\",\"prompt\":\"")(repo)!, 0xFF, .. "\"}"u8]),
            ("overlong UTF-8 dot in rootDirectory", repo => [.. Text(valid + ",\"rootDirectory\":\"")(repo)!, 0xC0, 0xAE, 0xC0, 0xAE, .. "\"}"u8]),
            ("UTF-8 surrogate bytes in repoId", repo => [.. "{\"repoId\":\""u8, 0xED, 0xA0, 0x80, .. "\",\"prompt\":\"x\"}"u8]),
            ("invalid UTF-8 in a key", repo => [.. Text(valid + ",\"")(repo)!, 0xFE, .. "\":1}"u8]),
            ("NUL byte outside strings", repo => [.. Text(valid)(repo)!, 0x00, .. "}"u8]),
            ("lone high surrogate escape in prompt", Text(valid.Replace("do it", "a\\ud800b", StringComparison.Ordinal) + "}")),
            ("lone low surrogate escape in repoId", Text("{\"repoId\":\"\\udc00\",\"prompt\":\"x\"}")),
            ("lone surrogate escape in baseBranch", Text(valid + ",\"baseBranch\":\"\\ud800\"}")),
            ("lone surrogate escape in workingBranch", Text(valid + ",\"workingBranch\":\"x\\udfff\"}")),
            ("lone surrogate escape in rootDirectory", Text(valid + ",\"rootDirectory\":\"\\ud800\"}")),
            ("lone surrogate escape in an unknown key", Text(valid + ",\"\\ud800\":1}")),
            ("reversed surrogate pair escape", Text(valid + ",\"mode\":\"\\udc00\\ud800\"}")),
            ("null", Text("null")),
            ("array", Text("[]")),
            ("array of the body", Text("[" + valid + "}]")),
            ("string", Text("\"str\"")),
            ("number", Text("42")),
            ("true", Text("true")),
            ("empty body", _ => []),
            ("whitespace body", Text(" \r\n\t ")),
            ("depth 65", repo => Nested(repo, 64)),
            ("depth 1000", repo => Nested(repo, 1000)),
            ("duplicate key", Text(valid + ",\"prompt\":\"other\"}")),
            ("duplicate key via escape", Text(valid + ",\"pr\\u006fmpt\":\"other\"}")),
            ("duplicate repoId", Text("{\"repoId\":\"not-an-id\",\"prompt\":\"x\",\"repoId\":\"{repo}\"}")),
        };
        foreach (var (label, body) in malformed)
        {
            BothBodies(label, body, InvalidJson);
        }

        // ---- Wrong types and empty values ----
        object?[] notStrings = [42, 1.5, true, false, new[] { "x" }, Array.Empty<string>(), new Dictionary<string, string> { ["a"] = "b" }];
        foreach (var value in notStrings.Append(null).Append("").Append(" \t\n"))
        {
            BothBodies($"repoId={Show(value)}", Field("repoId", value), "repoId is required");
            RunBody($"prompt={Show(value)}", Field("prompt", value), "Prompt is required");
        }

        BothBodies("without repoId", Text("{\"prompt\":\"do it\"}"), "repoId is required");
        BothBodies("empty object", Text("{}"), "repoId is required");
        RunBody("without prompt", Text("{\"repoId\":\"{repo}\"}"), "Prompt is required");
        RunBody("prompt of 100,001 characters", repo => Body(repo, prompt: new string('a', 100_001)), "Prompt is too long");

        foreach (var value in notStrings.Concat(["", "gpt", "CODEX", "codex ", "claude_code", "exec\u0000", SqlInjection]))
        {
            // A padded "codex " is trimmed and valid; leave it out of the error list.
            if (value is "codex ")
            {
                continue;
            }

            RunBody($"harness={Show(value)}", Field("harness", value), "Invalid harness");
        }

        foreach (var name in new[] { "conversationId", "workspaceSessionId", "mode" })
        {
            foreach (var value in notStrings.Append(new string('m', 1_001)))
            {
                RunBody($"{name}={Show(value)}", Field(name, value), $"Invalid {name}");
            }
        }

        // ---- Ids in the body ----
        foreach (var repoId in new[] { "not-a-uuid", SqlInjection, "../../etc/passwd", Unknown(1), "{" + Unknown(2) + "}", Unknown(3).Replace("-", "", StringComparison.Ordinal), new string('a', 10_000) })
        {
            BothBodies($"repoId={Show(repoId)}", Field("repoId", repoId), "Repo not found", HttpStatusCode.NotFound, NotFound);
        }

        // ---- Branch names, every forbidden form ----
        string[] badBranches =
        [
            "", " ", "\t", "@", "HEAD", "/x", "-x", "x/", "x.", "x.lock", "a/b.lock", "a..b", "a//b", "a@{b", "@{-1}", "a b", "a\tb",
            "a\u0000b", "a\u0001b", "a\u001fb", "a\u007fb", "a\nb", "a*b", "a:b", "a?b", "a[b", "a\\b", "a^b", "a~b", "ü", "feature/ü",
            "😀", "a\u00a0b", "a\u200bb", "a/.hidden", ".x", "--upload-pack=evil", "$(reboot)", "a;b", new string('b', 256),
        ];
        foreach (var branch in badBranches)
        {
            BothBodies($"baseBranch={Show(branch)}", Field("baseBranch", branch), "Invalid base branch");
            BothBodies($"workingBranch={Show(branch)}", Field("workingBranch", branch), "Invalid working branch");
        }

        foreach (var value in notStrings)
        {
            BothBodies($"baseBranch={Show(value)}", Field("baseBranch", value), "Invalid base branch");
            BothBodies($"workingBranch={Show(value)}", Field("workingBranch", value), "Invalid working branch");
        }

        BothBodies(
            "createBranch=true onto the base branch",
            repo => Body(repo, ("createBranch", true), ("baseBranch", "dev"), ("workingBranch", " dev ")),
            "Working branch must differ from base branch when createBranch is true");
        SandboxBody("createBranch=true without workingBranch", repo => Body(repo, ("createBranch", true)), "Invalid working branch");

        // ---- Root directories ----
        string[] badRoots =
        [
            "..", "../x", "a/../../b", "a/..", "./..", "%2e%2e", "%2E%2E/etc", "%252e%252e", "%c0%ae%c0%ae", "/etc", "//x", "/", "a\u0000b",
            "\\..\\", "..\\x", "a\\b", "C:x", "c:\\windows", "...", "a/.../b", "a\nb", "a\u007fb", new string('d', 1_001),
        ];
        foreach (var root in badRoots)
        {
            BothBodies($"rootDirectory={Show(root)}", Field("rootDirectory", root), "Invalid root directory");
        }

        foreach (var value in notStrings)
        {
            BothBodies($"rootDirectory={Show(value)}", Field("rootDirectory", value), "Invalid root directory");
        }

        // ---- Idempotency-Key ----
        KeyValuePair<string, string>[][] badKeys =
        [
            [],
            [new("Idempotency-Key", "   ")],
            [new("Idempotency-Key", new string('k', 201))],
            [new("Idempotency-Key", new string('k', 10_000))],
            [new("Idempotency-Key", new string('ü', 201))],
        ];
        string[] keyMessages =
        [
            "Idempotency-Key is required",
            "Idempotency-Key is required",
            "Idempotency-Key exceeds maximum length of 200 characters",
            "Idempotency-Key exceeds maximum length of 200 characters",
            "Idempotency-Key exceeds maximum length of 200 characters",
        ];
        string[] keyLabels = ["missing", "blank", "201 chars", "10,000 chars", "201 unicode chars"];
        for (var i = 0; i < badKeys.Length; i++)
        {
            Add(new HostileCase($"POST /runs Idempotency-Key {keyLabels[i]}", HttpMethod.Post, "/runs", repo => Body(repo), badKeys[i], false, HttpStatusCode.BadRequest, BadRequest, keyMessages[i]));
        }

        // ---- Query strings ----
        var sql = Uri.EscapeDataString(SqlInjection);
        foreach (var path in new[] { "/repos", "/runs", "/sandboxes", "/runs/{run}/events" })
        {
            foreach (var limit in new[] { "abc", "1e9", "1.5", "0x10", "%201", "1%20", "1,2", "--1", sql, "%E2%88%9E", "%00" })
            {
                Get($"{path}?limit={limit}", HttpStatusCode.BadRequest, BadRequest, "Invalid limit");
            }
        }

        Get("/runs/{run}/events?limit=1&limit=2", HttpStatusCode.BadRequest, BadRequest, "Invalid limit");
        Get("/repos?q=" + new string('q', 201), HttpStatusCode.BadRequest, BadRequest, "Invalid query");
        foreach (var status in new[] { sql, "PENDING", "done", "pending%00", "%20pending", "pending,success" })
        {
            Get($"/runs?status={status}", HttpStatusCode.BadRequest, BadRequest, "Invalid status");
            Get($"/sandboxes?status={status}", HttpStatusCode.BadRequest, BadRequest, "Invalid status");
        }

        string Cursor(string text) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
        foreach (var cursor in new[]
        {
            sql, "!!!", "%00", "a", Cursor("1." + SqlInjection), Cursor("-1." + Unknown(4)), Cursor("99999999999999999999." + Unknown(4)),
            Cursor("253402300800000." + Unknown(4)), Cursor("." + Unknown(4)), Cursor("1"), Cursor("1.not-a-uuid"), Cursor("\uFFFF.x"),
        })
        {
            Get($"/runs?cursor={cursor}", HttpStatusCode.BadRequest, BadRequest, "Invalid cursor");
        }

        foreach (var after in new[] { sql, "not-a-uuid", Unknown(5), "..%2F..%2Fetc%2Fpasswd", "%2e%2e", new string('a', 5_000) })
        {
            Get($"/runs/{{run}}/events?after={after}", HttpStatusCode.BadRequest, BadRequest, "Invalid after: not an event of this run");
        }

        // ---- Path ids ----
        string[] badIds =
        [
            "not-a-uuid", sql, "1%3B%20DROP%20TABLE%20runs", "..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cetc", "%2e%2e%2fetc", Unknown(6),
            Unknown(7).ToUpperInvariant(), "%7B" + Unknown(8) + "%7D", Unknown(9).Replace("-", "", StringComparison.Ordinal), new string('a', 7_000),
            "%F0%9F%98%80", "%C0%AE%C0%AE", "%25", "%20" + Unknown(10), "%0A" + Unknown(11),
        ];
        foreach (var id in badIds)
        {
            Get($"/runs/{id}", HttpStatusCode.NotFound, NotFound, "Run not found");
            Get($"/runs/{id}/events", HttpStatusCode.NotFound, NotFound, "Run not found");
            Post($"/runs/{id}/cancel", HttpStatusCode.NotFound, NotFound, "Run not found");
            Get($"/sandboxes/{id}/logs", HttpStatusCode.NotFound, NotFound, "Sandbox not found");
            Post($"/sandboxes/{id}/stop", HttpStatusCode.NotFound, NotFound, "Sandbox not found");
        }

        // Dot segments the server resolves before routing land on no route, still inside the API: the envelope.
        foreach (var path in new[] { "/runs/../../mogplex/nothing", "/runs/%2e%2e/nothing", "/runs/.%2E/x/y/z", "/nothing" })
        {
            Get(path, HttpStatusCode.NotFound, NotFound, "Route not found");
        }

        return cases;
    }

    /// <summary>A well-formed id that names nothing (fixed, so case names are stable between discovery and execution).</summary>
    private static string Unknown(int n) => $"00000000-0000-4000-8000-{n:D12}";

    private static byte[] Nested(string repo, int depth) =>
        Encoding.UTF8.GetBytes($"{{\"repoId\":\"{repo}\",\"prompt\":\"x\",\"mode\":{new string('[', depth)}{new string(']', depth)}}}");

    /// <summary>A readable, unseekable stream: HttpClient cannot know its length and sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
