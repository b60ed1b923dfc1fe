using System.Net;
using System.Text;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Testing;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// The real Codex and Claude Code CLIs (pinned, installed by scripts/install-harnesses.sh) run by
/// the engine inside bubblewrap, against the model stand-in on 127.0.0.1. Secrets sit where
/// operators put them: <c>Secrets</c>, and (Codex, the older way) <c>Environment</c> under a
/// secret-looking name; a plain variable sits in <c>Environment</c>.
/// </summary>
public sealed class AgentHarnessRunTests
{
    private const string Secret = "s3cr3t-canary-value-4217";

    private const string ModelKey = "stand-in-model-key";

    private const string PlainVariable = "MOGPLEX_TEST_PLAIN";

    private const string PlainValue = "plain-visible-value-8841";

    internal static async Task<(ServerFixture Server, ModelStandInServer Model, HttpClient Client, string Repo, string Source)> StartAsync(Func<ModelStandInServer, IDictionary<string, string?>>? overrides = null)
    {
        var model = await ModelStandInServer.StartAsync();
        var config = new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "bwrap",
            ["Harnesses:Codex:BaseUrl"] = model.OpenAiBaseUrl,
            ["Harnesses:Codex:ApiKeyVariable"] = "MODEL_KEY",
            ["Harnesses:Codex:Secrets:MODEL_KEY"] = ModelKey,
            ["Harnesses:Codex:Environment:" + StandInScript.SecretVariable] = Secret,
            ["Harnesses:Codex:Environment:" + PlainVariable] = PlainValue,
            ["Harnesses:ClaudeCode:BaseUrl"] = model.AnthropicBaseUrl,
            ["Harnesses:ClaudeCode:Secrets:ANTHROPIC_API_KEY"] = ModelKey,
            ["Harnesses:ClaudeCode:Secrets:" + StandInScript.SecretVariable] = Secret,
            ["Harnesses:ClaudeCode:Environment:" + PlainVariable] = PlainValue,
        };
        foreach (var (k, v) in overrides?.Invoke(model) ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }

        var server = await ServerFixture.StartAsync(config);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        return (server, model, client, repo, source);
    }

    /// <summary>No file under the data folder (database, mirrors, sandboxes with their homes) holds a secret.</summary>
    private static void AssertNoSecretOnDisk(ServerFixture server)
    {
        var files = Directory.EnumerateFiles(server.DataDir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList();
        Assert.Contains(files, f => f.Contains(Path.Combine(server.DataDir, "sandboxes"), StringComparison.Ordinal));
        foreach (var file in files.Where(f => new FileInfo(f).LinkTarget is null))
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var secret in new[] { Secret, ModelKey })
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{file} holds {secret}");
            }
        }
    }

    private static List<StandInRequest> ModelCalls(ModelStandInServer model) =>
        [.. model.Requests.Where(r => r.PathAndQuery.StartsWith("/v1/responses", StringComparison.Ordinal) || r.PathAndQuery.StartsWith("/v1/messages", StringComparison.Ordinal))];

    [Theory]
    [InlineData("codex", "gpt-5.5")]
    [InlineData("claude-code", "claude-sonnet-4-5")]
    public async Task AgentRun_WritesFile_CommitLandsAndEventsNormalized(string harness, string modelName)
    {
        var (server, model, client, repo, source) = await StartAsync();
        await using var _ = server;
        await using var __ = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Create hello.txt [[write hello.txt hi]]", createBranch = true, workingBranch = "agent/" + harness });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.True(run.GetProperty("status").GetString() == "success", string.Join("\n", (await EngineTestKit.AllEventsAsync(client, run.GetProperty("runId").GetString()!)).Select(e => e.GetRawText())));
        Assert.Equal("hi", GitRepos.Git(source, "show", $"agent/{harness}:hello.txt"));
        var events = await EngineTestKit.AllEventsAsync(client, run.GetProperty("runId").GetString()!);
        var types = events.Select(e => e.GetProperty("type").GetString()).ToList();
        foreach (var expected in new[] { "stream_started", "tool_call", "tool_result", "assistant_message", "usage", "finished" })
        {
            Assert.Contains(expected, types);
        }

        var started = events.Single(e => e.GetProperty("type").GetString() == "stream_started");
        Assert.Equal(modelName, started.GetProperty("payload").GetProperty("model").GetString());

        // One turn, in order around the agent's steps, with that turn's usage.
        var turnStarted = types.IndexOf("turn_started");
        var turnCompleted = types.IndexOf("turn_completed");
        Assert.InRange(turnStarted, 0, types.IndexOf("tool_call"));
        Assert.True(turnCompleted > types.IndexOf("assistant_message"), string.Join(",", types));
        Assert.Equal(1, types.Count(t => t == "turn_completed"));
        var turn = events[turnCompleted].GetProperty("payload");
        Assert.Equal("completed", turn.GetProperty("status").GetString());
        Assert.Equal(events[turnStarted].GetProperty("payload").GetProperty("turnId").GetString(), turn.GetProperty("turnId").GetString());
        Assert.Equal(200, turn.GetProperty("usage").GetProperty("input").GetInt64());
        Assert.Equal(40, turn.GetProperty("usage").GetProperty("output").GetInt64());
        Assert.Equal(200, run.GetProperty("usage").GetProperty("inputTokens").GetInt64());
        Assert.Equal(40, run.GetProperty("usage").GetProperty("outputTokens").GetInt64());
    }

    /// <summary>
    /// The attack suite's core through the real CLIs (a prompt injection would steer them the same
    /// way): the agent's shell tool plants a nested repository whose filter would create a marker
    /// as the server during delivery, and reports its capabilities and whether it reaches the
    /// server's API. Nothing of it crosses: no marker, no capability, no API; the rest is delivered.
    /// </summary>
    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_PlantsNestedRepositoryAndProbesCapabilities_NothingCrosses(string harness)
    {
        var (server, model, client, repo, source) = await StartAsync();
        await using var _ = server;
        await using var __ = model;
        var marker = Path.Combine(Path.GetTempPath(), "mogplex-escape-" + Guid.NewGuid().ToString("N"));
        var plant = $"mkdir sub && cd sub && git init -q && git config filter.x.clean 'touch {marker}; cat' && printf '* filter=x\\n' > .gitattributes && echo aaaa > f.txt && git add . && git -c user.name=a -c user.email=a@b.invalid commit -qm x && printf 'bbbb\\n' > f.txt && cd .. && echo top > top.txt";
        var probe = $"grep CapEff /proc/self/status; (exec 3<>/dev/tcp/127.0.0.1/{server.BaseAddress.Port}) 2>/dev/null && echo REACHED_$((6*7)); echo PROBED_$((1+1))";
        var prompt = $"Work on the repo [[run {plant}]] [[run {probe}]]";

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt, createBranch = true, workingBranch = "attack/" + harness });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);
        var events = string.Join("\n", (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetRawText()));

        Assert.True(run.GetProperty("status").GetString() == "success", events);
        Assert.False(File.Exists(marker), "a nested repository's filter ran as the server");
        Assert.Contains("PROBED_2", events, StringComparison.Ordinal);
        Assert.Matches(@"CapEff:(\\t|\s)+0{16}", events);
        Assert.DoesNotContain("REACHED_42", events, StringComparison.Ordinal);
        Assert.Equal("top\n", GitRepos.Git(source, "show", $"attack/{harness}:top.txt"));
        Assert.DoesNotContain("sub", GitRepos.Git(source, "ls-tree", "-r", "--name-only", "attack/" + harness), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("codex", "[[fail500]]", 500)]
    [InlineData("codex", "[[fail401]]", 401)]
    [InlineData("claude-code", "[[fail500]]", 500)]
    [InlineData("claude-code", "[[fail401]]", 401)]
    public async Task AgentRun_ModelFailure_FailsAfterOneCallNamingStatusAndHost(string harness, string directive, int status)
    {
        // No retry setting in the configuration: the harness itself keeps the CLI from retrying
        // (Claude Code's own backoff takes minutes to give up on a 401).
        var (server, model, client, repo, _) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Try " + directive });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        var error = run.GetProperty("error").GetString()!;
        Assert.Contains($"model API error: HTTP {status} from {model.BaseUrl.Authority}", error, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("commit").ValueKind);
        Assert.Single(ModelCalls(model));

        // On 401 the stand-in quotes the key it was sent (some providers do): the run's error, its
        // events and the stored rows must not.
        var runId = run.GetProperty("runId").GetString()!;
        var events = await EngineTestKit.AllEventsAsync(client, runId);
        Assert.DoesNotContain(events, e => e.GetProperty("type").GetString() == "assistant_message");
        var all = string.Join('\n', events.Select(e => e.GetRawText())) + run.GetRawText();
        Assert.DoesNotContain(ModelKey, all, StringComparison.Ordinal);
        var stored = await server.Store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct);
        Assert.DoesNotContain(stored, e => (e.Message + e.PayloadJson).Contains(ModelKey, StringComparison.Ordinal));
        if (harness == "codex" && directive == "[[fail401]]")
        {
            // Codex quotes the provider's message in turn.failed (Claude Code words its own).
            Assert.Contains("[redacted]", error, StringComparison.Ordinal);
        }

        AssertNoSecretOnDisk(server);
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_CancelWhileStreaming_CancelledNoProcessAndNoSecretLeft(string harness)
    {
        var (server, model, client, repo, _) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Wait [[sleep]]" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        await Waits.UntilAsync(() => EngineTestKit.AllEventsAsync(client, runId), e => e.Any(x => x.GetProperty("type").GetString() == "tool_call"), TimeSpan.FromSeconds(60), "the tool call");
        var sandboxes = Path.Combine(server.DataDir, "sandboxes");
        Assert.NotEmpty(ProcessTable.ProcessesUnder(sandboxes));

        var cancel = await ApiClient.PostAsync(client, $"/runs/{runId}/cancel");

        Assert.Equal("cancelled", cancel.Data.GetProperty("status").GetString());
        Assert.Empty(ProcessTable.ProcessesUnder(sandboxes));
        // A stopped Codex leaves its shell snapshot (the whole environment, keys included) behind.
        AssertNoSecretOnDisk(server);
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_HarnessPrintsSecretAndPlainVariable_SecretRedactedPlainShownNothingOnDisk(string harness)
    {
        var (server, model, client, repo, _) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = $"Show them [[secret]] [[run echo \"PLAIN=${PlainVariable}\"]]" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);
        Assert.Equal("success", run.GetProperty("status").GetString());

        var events = await EngineTestKit.AllEventsAsync(client, runId);
        var all = string.Join("\n", events.Select(e => e.GetRawText()));
        Assert.Contains(StandInScript.SecretVariable + "=[redacted]", all, StringComparison.Ordinal);
        Assert.Contains("PLAIN=" + PlainValue, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, (await ApiClient.GetAsync(client, $"/runs/{runId}")).Json.GetRawText(), StringComparison.Ordinal);
        var stored = await server.Store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct);
        Assert.DoesNotContain(stored, e => (e.Message + e.PayloadJson).Contains(Secret, StringComparison.Ordinal));
        AssertNoSecretOnDisk(server);
    }

    [Fact]
    public async Task ClaudeRun_ModelNameInEnvironment_ShownUnredacted()
    {
        const string ModelName = "stand-in-model-7";
        var (server, model, client, repo, _) = await StartAsync(_ => new Dictionary<string, string?>
        {
            ["Harnesses:ClaudeCode:Model"] = "",
            ["Harnesses:ClaudeCode:Environment:ANTHROPIC_MODEL"] = ModelName,
        });
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "claude-code", prompt = "Hello [[say hi]]" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);
        Assert.Equal("success", run.GetProperty("status").GetString());

        var started = (await EngineTestKit.AllEventsAsync(client, runId)).Single(e => e.GetProperty("type").GetString() == "stream_started");
        Assert.Equal(ModelName, started.GetProperty("payload").GetProperty("model").GetString());
        Assert.Contains(ModelCalls(model), r => r.Body.Contains($"\"model\":\"{ModelName}\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("codex", true)]
    [InlineData("codex", false)]
    [InlineData("claude-code", true)]
    [InlineData("claude-code", false)]
    public async Task AgentRun_BaseUrlWithOrWithoutV1_ReachesTheModel(string harness, bool withV1)
    {
        var (server, model, client, repo, _) = await StartAsync(m => new Dictionary<string, string?>
        {
            ["Harnesses:Codex:BaseUrl"] = withV1 ? m.OpenAiBaseUrl : m.AnthropicBaseUrl,
            ["Harnesses:ClaudeCode:BaseUrl"] = withV1 ? m.OpenAiBaseUrl + "/" : m.AnthropicBaseUrl,
        });
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Hello [[say hi]]" });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.True(run.GetProperty("status").GetString() == "success", run.GetRawText());
        Assert.NotEmpty(ModelCalls(model));
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_EditsFile_EventPathsRepoRelativeNeverServerPaths(string harness)
    {
        var (server, model, client, repo, source) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Note [[edit notes/a.txt line one]] [[run pwd]]", createBranch = true, workingBranch = "paths/" + harness });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);
        Assert.True(run.GetProperty("status").GetString() == "success", run.GetRawText());
        Assert.StartsWith("line one", GitRepos.Git(source, "show", $"paths/{harness}:notes/a.txt"), StringComparison.Ordinal);

        var events = await EngineTestKit.AllEventsAsync(client, runId);
        var edit = events.First(e => e.GetProperty("type").GetString() == "tool_call" && e.GetProperty("toolName").GetString() == "edit_file");
        Assert.Equal("notes/a.txt", edit.GetProperty("message").GetString());
        var pwd = events.Last(e => e.GetProperty("type").GetString() == "tool_result");
        Assert.Equal(".", pwd.GetProperty("payload").GetProperty("output").GetString()!.Trim());
        Assert.DoesNotContain(events, e => e.GetRawText().Contains(server.DataDir, StringComparison.Ordinal));
    }
}
