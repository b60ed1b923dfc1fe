using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.EndToEnd.Tests;

/// <summary>
/// An interactive run outlives its server (interactive.md, issue #11): the published mogplexd is
/// killed (<c>kill -9</c>, or stopped cleanly) while the run waits for input, or in the middle of a turn, or with an
/// approval nobody answered yet; after a restart the run is still open, the running turn ended
/// <c>interrupted</c> (<c>by: restart</c>), the approval expired (never answered), and the next
/// follow-up continues the same conversation — the model's request holds the earlier turns — with
/// the real Codex and Claude Code CLIs resuming from the sandbox's harness home.
/// </summary>
public sealed class InteractiveRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Harnesses() => new() { "codex", "claude-code" };

    [Theory]
    [InlineData("codex", "KILL")]
    [InlineData("claude-code", "KILL")]
    [InlineData("codex", "TERM")]
    public async Task Restart_WhileItWaitsForInput_TheNextFollowUpContinuesTheConversation(string harness, string signal)
    {
        var (mogplexd, model, env, token, repoId, source) = await SetUpAsync(harness);
        await using var _ = mogplexd;
        await using var __ = model;
        var first = await mogplexd.StartServerAsync(env);
        string runId;
        using (var client = first.CreateClient(token))
        {
            runId = await StartAsync(client, repoId, harness, "Remember the word PELICAN [[write one.txt 1]] [[say noted]]");
            await WaitAsync(client, runId, r => Awaiting(r) == "input");
        }

        // kill -9, or a clean stop (an upgrade): either way the conversation stays open.
        await first.SignalAsync(signal);
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);

        var second = await mogplexd.StartServerAsync(env);
        using var again = second.CreateClient(token);
        var kept = await WaitAsync(again, runId, r => Awaiting(r) == "input" && Events(again, runId).Result.Any(e => e.Message == "Resumed: the conversation goes on with the next message"));
        Assert.Equal("streaming", kept.GetProperty("status").GetString());
        var calls = model.Requests.Count;

        await SendAsync(again, runId, "And now the second file [[write two.txt 2]] [[say second]]");
        await WaitAsync(again, runId, r => Awaiting(r) == "input" && r.GetProperty("turns").GetInt32() >= 2);

        // The resumed process's model request carries the first turn: the same conversation.
        Assert.Contains(model.Requests.Skip(calls), r => r.Body.Contains("PELICAN", StringComparison.Ordinal) && r.Body.Contains("second file", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Accepted, (await again.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/finish", UriKind.Relative), null, Ct)).StatusCode);
        var end = await WaitAsync(again, runId, r => r.GetProperty("status").GetString() is "success" or "failed" or "cancelled");
        Assert.True(end.GetProperty("status").GetString() == "success", await DescribeAsync(again, runId));

        // Both turns' work is delivered, the first one's made before the crash.
        Assert.Equal("1", Git(source, "show", $"chat/{harness}:one.txt"));
        Assert.Equal("2", Git(source, "show", $"chat/{harness}:two.txt"));
        Assert.Equal(0, await second.StopAsync());
    }

    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task KillNine_DuringATurn_TheTurnEndsInterruptedByRestart_TheRunStaysOpen(string harness)
    {
        var (mogplexd, model, env, token, repoId, _) = await SetUpAsync(harness);
        await using var _1 = mogplexd;
        await using var _2 = model;
        var runId = (await KillNineInTheFirstTurnAsync(mogplexd, env, model, token, repoId, harness, "Think forever [[hang]]")).GetProperty("runId").GetString()!;
        var second = await mogplexd.StartServerAsync(env);
        using var again = second.CreateClient(token);
        await WaitAsync(again, runId, r => Awaiting(r) == "input");
        var interrupted = (await Events(again, runId)).Last(e => e.Type == "turn_completed");
        Assert.Equal("interrupted", interrupted.Payload!.Value.GetProperty("status").GetString());
        Assert.Equal("restart", interrupted.Payload!.Value.GetProperty("by").GetString());

        await SendAsync(again, runId, "Never mind [[say fine]]");
        await WaitAsync(again, runId, r => Awaiting(r) == "input" && r.GetProperty("turns").GetInt32() >= 2);
        Assert.Equal(HttpStatusCode.OK, (await again.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/cancel", UriKind.Relative), null, Ct)).StatusCode);
        Assert.Equal(0, await second.StopAsync());
    }

    /// <summary>
    /// Both CLIs save their conversation lazily (Codex once the first turn starts, Claude Code a
    /// moment after it): a kill -9 in that moment leaves a conversation they have no record of.
    /// That state is made here for sure (the saved file removed after the kill, as if the kill
    /// came first): the run still goes on, a new conversation whose first message carries the
    /// run's prompt, so the model still has everything the person said.
    /// </summary>
    [Theory]
    [MemberData(nameof(Harnesses))]
    public async Task KillNine_BeforeTheHarnessSavedTheFirstTurn_ANewConversationCarriesThePrompt(string harness)
    {
        var (mogplexd, model, env, token, repoId, source) = await SetUpAsync(harness);
        await using var _1 = mogplexd;
        await using var _2 = model;
        var running = await KillNineInTheFirstTurnAsync(mogplexd, env, model, token, repoId, harness, "Remember the word OSPREY [[hang]]");
        var runId = running.GetProperty("runId").GetString()!;
        var home = Path.Combine(mogplexd.DataDir, "sandboxes", running.GetProperty("sandboxRecordId").GetString()!, "home");
        var saved = harness == "codex" ? Path.Combine(home, ".codex", "sessions") : Path.Combine(home, ".claude", "projects");
        // (Claude Code may not have saved it anyway: that is the moment this is about.)
        if (Directory.Exists(saved))
        {
            Directory.EnumerateFiles(saved, "*.jsonl", SearchOption.AllDirectories).ToList().ForEach(File.Delete);
        }

        var second = await mogplexd.StartServerAsync(env);
        using var again = second.CreateClient(token);
        await WaitAsync(again, runId, r => Awaiting(r) == "input" && Events(again, runId).Result.Any(e => e.Message?.Contains("had not saved the conversation", StringComparison.Ordinal) == true));
        var calls = model.Requests.Count;

        await SendAsync(again, runId, "Now write it down [[write bird.txt osprey]] [[say written]]");
        await WaitAsync(again, runId, r => Awaiting(r) == "input" && r.GetProperty("turns").GetInt32() >= 2);
        Assert.Contains(model.Requests.Skip(calls), r => r.Body.Contains("OSPREY", StringComparison.Ordinal) && r.Body.Contains("write it down", StringComparison.Ordinal));

        // A second follow-up goes on in the new conversation, which the harness saved by now.
        calls = model.Requests.Count;
        await SendAsync(again, runId, "And again [[say again]]");
        await WaitAsync(again, runId, r => Awaiting(r) == "input" && r.GetProperty("turns").GetInt32() >= 3);
        Assert.Contains(model.Requests.Skip(calls), r => r.Body.Contains("OSPREY", StringComparison.Ordinal) && r.Body.Contains("And again", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Accepted, (await again.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/finish", UriKind.Relative), null, Ct)).StatusCode);
        var end = await WaitEndAsync(again, runId);
        Assert.Equal("success", end.GetProperty("status").GetString());
        Assert.Equal("osprey", Git(source, "show", $"chat/{harness}:bird.txt"));
        Assert.Equal(0, await second.StopAsync());
    }

    [Fact]
    public async Task KillNine_WithAPendingApproval_ItExpiresByRestart_NeverAnswered()
    {
        var (mogplexd, model, env, token, repoId, source) = await SetUpAsync("codex");
        await using var _1 = mogplexd;
        await using var _2 = model;
        var first = await mogplexd.StartServerAsync(env);
        string runId;
        string approvalId;
        using (var client = first.CreateClient(token))
        {
            runId = await StartAsync(client, repoId, "codex", "Write it [[write asked.txt a]]", permissionMode: "approval");
            await WaitAsync(client, runId, r => Awaiting(r) == "approval");
            approvalId = (await client.GetFromJsonAsync<JsonElement>(new Uri($"{Curl.ApiBase}/runs/{runId}/approvals", UriKind.Relative), Ct)).GetProperty("data").GetProperty("approvals")[0].GetProperty("id").GetString()!;
        }

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);

        var second = await mogplexd.StartServerAsync(env);
        using var again = second.CreateClient(token);
        await WaitAsync(again, runId, r => Awaiting(r) == "input");
        var approval = (await again.GetFromJsonAsync<JsonElement>(new Uri($"{Curl.ApiBase}/runs/{runId}/approvals?status=all", UriKind.Relative), Ct)).GetProperty("data").GetProperty("approvals")[0];
        Assert.Equal(approvalId, approval.GetProperty("id").GetString());
        Assert.Equal("expired", approval.GetProperty("status").GetString());
        Assert.Equal("restart", approval.GetProperty("decidedBy").GetString());

        // A late answer is refused with the stored outcome; nothing was written.
        using var late = await again.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/approvals/{approvalId}", UriKind.Relative), new StringContent("""{"decision":"approve"}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await again.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/finish", UriKind.Relative), null, Ct)).StatusCode);
        var end = await WaitAsync(again, runId, r => r.GetProperty("status").GetString() is "success" or "failed" or "cancelled");
        Assert.Equal("success", end.GetProperty("status").GetString());
        Assert.Throws<InvalidOperationException>(() => Git(source, "show", "chat/codex:asked.txt"));
        Assert.Equal(0, await second.StopAsync());
    }

    /// <summary>
    /// What a harness left in its home before the crash is not trusted on resume: its state folder
    /// (the conversation) replaced by a link to a host folder is removed, never followed; the
    /// conversation cannot go on and the run says so.
    /// </summary>
    [Fact]
    public async Task KillNine_ThenTheStateFolderIsALinkOut_ResumeNeverFollowsIt_TheRunFailsClearly()
    {
        var (mogplexd, model, env, token, repoId, _) = await SetUpAsync("codex");
        await using var _1 = mogplexd;
        await using var _2 = model;
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;
        var first = await mogplexd.StartServerAsync(env);
        string runId;
        JsonElement waiting;
        using (var client = first.CreateClient(token))
        {
            runId = await StartAsync(client, repoId, "codex", "One turn [[say hi]]");
            waiting = await WaitAsync(client, runId, r => Awaiting(r) == "input");
        }

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);

        // As the harness could have done before the crash: its CODEX_HOME is now a link to the host.
        var state = Path.Combine(mogplexd.DataDir, "sandboxes", waiting.GetProperty("sandboxRecordId").GetString()!, "home", ".codex");
        Directory.Delete(state, recursive: true);
        File.CreateSymbolicLink(state, outside);

        var second = await mogplexd.StartServerAsync(env);
        using var again = second.CreateClient(token);
        await SendAsync(again, runId, "Go on [[say again]]");
        var end = await WaitEndAsync(again, runId);

        Assert.Equal("failed", end.GetProperty("status").GetString());
        Assert.Contains("thread/resume", end.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Null(new DirectoryInfo(state).LinkTarget);
        Assert.Equal(0, await second.StopAsync());
    }

    private static async Task<JsonElement> WaitEndAsync(HttpClient client, string runId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var run = (await client.GetFromJsonAsync<JsonElement>(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), Ct)).GetProperty("data").GetProperty("run");
            if (run.GetProperty("status").GetString() is "success" or "failed" or "cancelled")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the run did not end: {run}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>A data folder with a token and a repository, both CLIs configured for a model stand-in (started), bubblewrap isolation; the server is not started.</summary>
    internal static async Task<(MogplexdProcess Mogplexd, ModelStandInServer Model, Dictionary<string, string?> Env, string Token, string RepoId, string Source)> SetUpAsync(string harness)
    {
        var mogplexd = new MogplexdProcess();
        var env = new Dictionary<string, string?>(ExecRuns.Unlimited) { ["MOGPLEXD_Sandbox__Isolation"] = "bwrap" };
        var model = await RealCodex.ConfigureAsync(env);
        env["MOGPLEXD_Harnesses__ClaudeCode__BaseUrl"] = model.AnthropicBaseUrl;
        env["MOGPLEXD_Harnesses__ClaudeCode__Secrets__ANTHROPIC_API_KEY"] = RealCodex.ModelKey;
        var token = await mogplexd.CreateTokenAsync();
        var source = await GitSource.CreateAsync(mogplexd.RootDir, "acme", "resume-" + harness);
        var repoId = (await mogplexd.RunCheckedAsync("repo", "add", source.Path)).Trim();
        return (mogplexd, model, env, token, repoId, source.Path);
    }

    /// <summary>Starts an interactive run whose first turn never ends and kills mogplexd (<c>kill -9</c>) once the model was asked; returns the run as last seen.</summary>
    private static async Task<JsonElement> KillNineInTheFirstTurnAsync(MogplexdProcess mogplexd, Dictionary<string, string?> env, ModelStandInServer model, string token, string repoId, string harness, string prompt)
    {
        var first = await mogplexd.StartServerAsync(env);
        JsonElement running;
        using (var client = first.CreateClient(token))
        {
            var runId = await StartAsync(client, repoId, harness, prompt);
            running = await WaitAsync(client, runId, r => r.GetProperty("turns").GetInt32() >= 1);
            await Waits(() => model.Requests.Count > 0, "the model to be asked");
        }

        await first.SignalAsync("KILL");
        await first.WaitForExitAsync(MogplexdProcess.StopTimeout);
        return running;
    }

    private static async Task<string> StartAsync(HttpClient client, string repoId, string harness, string prompt, string permissionMode = "auto")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Curl.ApiBase + "/runs", UriKind.Relative))
        {
            Content = new StringContent(JsonSerializer.Serialize(new { repoId, harness, prompt, createBranch = true, workingBranch = "chat/" + harness, interactive = true, permissionMode }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("data").GetProperty("runId").GetString()!;
    }

    private static async Task SendAsync(HttpClient client, string runId, string text)
    {
        using var response = await client.PostAsync(new Uri($"{Curl.ApiBase}/runs/{runId}/messages", UriKind.Relative), new StringContent(JsonSerializer.Serialize(new { text }), Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static string? Awaiting(JsonElement run) => run.GetProperty("awaiting").ValueKind == JsonValueKind.String ? run.GetProperty("awaiting").GetString() : null;

    private static async Task<JsonElement> WaitAsync(HttpClient client, string runId, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        JsonElement run = default;
        while (DateTime.UtcNow < deadline)
        {
            run = (await client.GetFromJsonAsync<JsonElement>(new Uri($"{Curl.ApiBase}/runs/{runId}", UriKind.Relative), Ct)).GetProperty("data").GetProperty("run");
            if (done(run))
            {
                return run;
            }

            if (run.GetProperty("status").GetString() is "failed" or "cancelled")
            {
                Assert.Fail($"the run ended: {run}\n{await DescribeAsync(client, runId)}");
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"timed out; the run: {run}\n{await DescribeAsync(client, runId)}");
        return run;
    }

    private static async Task Waits(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100, Ct);
        }
    }

    private static Task<List<Mogplex.Contracts.Events.RunEvent>> Events(HttpClient client, string runId) => ExecRuns.EventsAsync(client, runId);

    private static async Task<string> DescribeAsync(HttpClient client, string runId) =>
        string.Join("\n", (await Events(client, runId)).Select(e => $"{e.Type}: {e.Message} {e.Payload}"));

    internal static string Git(string repo, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output.TrimEnd('\n') : throw new InvalidOperationException(p.StandardError.ReadToEnd());
    }
}
