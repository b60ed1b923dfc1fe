using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Testing;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// The real Codex and Claude Code CLIs (pinned, installed by scripts/install-harnesses.sh) run by
/// the engine inside bubblewrap, against the model stand-in on 127.0.0.1.
/// </summary>
public sealed class AgentHarnessRunTests
{
    private const string Secret = "s3cr3t-canary-value-4217";

    private const string ModelKey = "stand-in-model-key";

    private static async Task<(ServerFixture Server, ModelStandInServer Model, HttpClient Client, string Repo, string Source)> StartAsync()
    {
        var model = await ModelStandInServer.StartAsync();
        var server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["Runs:Workers"] = "true",
            ["RateLimits:RequestsPerWindow"] = "100000",
            ["Sandbox:Isolation"] = "bwrap",
            ["Harnesses:Codex:BaseUrl"] = model.OpenAiBaseUrl,
            ["Harnesses:Codex:ApiKeyVariable"] = "MODEL_KEY",
            ["Harnesses:Codex:Environment:MODEL_KEY"] = ModelKey,
            ["Harnesses:Codex:Environment:" + StandInScript.SecretVariable] = Secret,
            ["Harnesses:ClaudeCode:BaseUrl"] = model.AnthropicBaseUrl,
            ["Harnesses:ClaudeCode:Environment:ANTHROPIC_API_KEY"] = ModelKey,
            ["Harnesses:ClaudeCode:Environment:CLAUDE_CODE_MAX_RETRIES"] = "0",
            ["Harnesses:ClaudeCode:Environment:" + StandInScript.SecretVariable] = Secret,
        });
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        return (server, model, client, repo, source);
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_WritesFile_CommitLandsAndEventsNormalized(string harness)
    {
        var (server, model, client, repo, source) = await StartAsync();
        await using var _ = server;
        await using var __ = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Create hello.txt [[write hello.txt hi]]", createBranch = true, workingBranch = "agent/" + harness });
        Assert.Equal(HttpStatusCode.Accepted, start.Status);
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("success", run.GetProperty("status").GetString());
        Assert.Equal("hi", GitRepos.Git(source, "show", $"agent/{harness}:hello.txt"));
        var types = (await EngineTestKit.AllEventsAsync(client, run.GetProperty("runId").GetString()!)).Select(e => e.GetProperty("type").GetString()).ToList();
        foreach (var expected in new[] { "stream_started", "tool_call", "tool_result", "assistant_message", "usage", "finished" })
        {
            Assert.Contains(expected, types);
        }

        Assert.Equal(200, run.GetProperty("usage").GetProperty("inputTokens").GetInt64());
        Assert.Equal(40, run.GetProperty("usage").GetProperty("outputTokens").GetInt64());
    }

    [Theory]
    [InlineData("codex", "[[fail500]]")]
    [InlineData("codex", "[[fail401]]")]
    [InlineData("claude-code", "[[fail500]]")]
    [InlineData("claude-code", "[[fail401]]")]
    public async Task AgentRun_ModelFailure_FailedWithReason(string harness, string directive)
    {
        var (server, model, client, repo, _) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Try " + directive });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.Equal("failed", run.GetProperty("status").GetString());
        var error = run.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Equal(JsonValueKind.Null, run.GetProperty("commit").ValueKind);

        // On 401 the stand-in quotes the key it was sent (some providers do): the run's error, its
        // events and the stored rows must not.
        var runId = run.GetProperty("runId").GetString()!;
        var all = string.Join('\n', (await EngineTestKit.AllEventsAsync(client, runId)).Select(e => e.GetRawText())) + run.GetRawText();
        Assert.DoesNotContain(ModelKey, all, StringComparison.Ordinal);
        var stored = await server.Store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct);
        Assert.DoesNotContain(stored, e => (e.Message + e.PayloadJson).Contains(ModelKey, StringComparison.Ordinal));
        if (harness == "codex" && directive == "[[fail401]]")
        {
            // Codex quotes the provider's message in turn.failed (Claude Code words its own).
            Assert.Contains("[redacted]", error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_CancelWhileStreaming_CancelledAndNoProcessLeft(string harness)
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
    }

    [Theory]
    [InlineData("codex")]
    [InlineData("claude-code")]
    public async Task AgentRun_HarnessPrintsSecret_SecretNowhereInEventsOrAnswers(string harness)
    {
        var (server, model, client, repo, _) = await StartAsync();
        await using var _s = server;
        await using var _m = model;

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = "Show it [[secret]]" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);
        Assert.Equal("success", run.GetProperty("status").GetString());

        var events = await EngineTestKit.AllEventsAsync(client, runId);
        var all = string.Join("\n", events.Select(e => e.GetRawText()));
        Assert.Contains(StandInScript.SecretVariable + "=[redacted]", all, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, (await ApiClient.GetAsync(client, $"/runs/{runId}")).Json.GetRawText(), StringComparison.Ordinal);
        var stored = await server.Store.Events.ListAsync(runId, 0, 10_000, ServerFixture.Ct);
        Assert.DoesNotContain(stored, e => (e.Message + e.PayloadJson).Contains(Secret, StringComparison.Ordinal));
    }
}
