using System.Text.Json.Nodes;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Runs.Permissions;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>
/// Approvals, follow-ups and interrupts against recorded protocol transcripts of both CLIs
/// (Recorded/probe/README.md): every line the CLI printed goes through our parser; for every
/// line the recorded client wrote, we perform the action it stands for and check that our parser
/// wrote the same. The signals (asks, withdrawals, turns) are what the run engine acts on.
/// </summary>
public sealed class SessionTranscriptTests
{
    private sealed record Replayed(List<SessionSignal> Signals, List<HarnessEvent> Events, HarnessOutcome Outcome);

    [Fact]
    public void Codex_CommandAsk_Accepted()
    {
        var r = ReplayCodex("c_exec_accept");

        var ask = Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal("run_command", ask.Call.Action);
        Assert.Equal(["bash:printf '%s\\n' 'hello from mock' > hello.txt"], ask.Call.Descriptors.Select(d => d.ToString()));
        Assert.Equal(Risk.Medium, ask.Call.Risk);
        Assert.Equal(".", ask.Call.Cwd);
        Assert.Empty(r.Signals.OfType<SessionSignal.ApprovalWithdrawn>());
        Assert.Equal(["completed"], r.Signals.OfType<SessionSignal.TurnCompleted>().Select(t => t.Status));
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Codex_CommandAsk_Declined_ThenAFollowUpTurnOnTheSameThread()
    {
        var r = ReplayCodex("c_exec_decline");

        Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal(["completed", "completed"], r.Signals.OfType<SessionSignal.TurnCompleted>().Select(t => t.Status));
        Assert.Equal(2, r.Signals.OfType<SessionSignal.TurnStarted>().Count());
        Assert.Contains(r.Events, e => e.Type == "tool_result" && e.Message == "declined");
        Assert.True(r.Outcome.Succeeded);
    }

    [Theory]
    [InlineData("c_patch_accept")]
    [InlineData("c_patch_decline")]
    public void Codex_PatchAsk_DescribesTheFilesFromTheItemBeforeIt(string file)
    {
        var r = ReplayCodex(file);

        var ask = Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal("apply_patch", ask.Call.Action);
        Assert.Equal(["write:hello.txt"], ask.Call.Descriptors.Select(d => d.ToString()));
        var change = Assert.Single(ask.Call.Changes!);
        Assert.Equal(new FileChange("hello.txt", "add", "hello from mock\n"), change);
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Codex_InterruptWhileAsking_WithdrawsTheAsk_TurnInterrupted_RunNotFailed()
    {
        var r = ReplayCodex("c_int_on_appr");

        var ask = Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal(ask.Ref, Assert.Single(r.Signals.OfType<SessionSignal.ApprovalWithdrawn>()).Ref);
        Assert.Equal("interrupted", Assert.Single(r.Signals.OfType<SessionSignal.TurnCompleted>()).Status);
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Codex_InterruptAHangingTurn_ThenAFollowUpThatAsks()
    {
        var r = ReplayCodex("c_interrupt_then_followup");

        Assert.Equal(["interrupted", "completed"], r.Signals.OfType<SessionSignal.TurnCompleted>().Select(t => t.Status));
        Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Claude_BashAsk_Allowed_ThenASecondTurnAsksAgain()
    {
        var r = ReplayClaude("k_stdio_allow");

        var asks = r.Signals.OfType<SessionSignal.ApprovalAsked>().ToList();
        Assert.Equal(2, asks.Count);
        Assert.All(asks, a => Assert.Equal("bash:printf '%s\\n' 'hello from mock' > hello.txt", Assert.Single(a.Call.Descriptors).ToString()));
        Assert.Equal(["turn-1", "turn-2"], asks.Select(a => a.TurnId));
        Assert.Equal(["completed", "completed"], r.Signals.OfType<SessionSignal.TurnCompleted>().Select(t => t.Status));
        Assert.True(r.Outcome.Succeeded);
    }

    [Theory]
    [InlineData("k_stdio_deny", "run_command", "bash:printf '%s\\n' 'hello from mock' > hello.txt")]
    [InlineData("k_write_deny", "apply_patch", "write:hello.txt")]
    public void Claude_AskDenied_IsAnAnswerNotAFailure(string file, string action, string descriptor)
    {
        var r = ReplayClaude(file);

        var ask = Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal(action, ask.Call.Action);
        Assert.Equal(descriptor, Assert.Single(ask.Call.Descriptors).ToString());
        Assert.Equal("completed", Assert.Single(r.Signals.OfType<SessionSignal.TurnCompleted>()).Status);
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Claude_InterruptWhileAsking_WithdrawsTheAsk_TurnInterrupted_RunNotFailed()
    {
        var r = ReplayClaude("k_int_on_appr");

        var ask = Assert.Single(r.Signals.OfType<SessionSignal.ApprovalAsked>());
        Assert.Equal(ask.Ref, Assert.Single(r.Signals.OfType<SessionSignal.ApprovalWithdrawn>()).Ref);
        Assert.Equal("interrupted", Assert.Single(r.Signals.OfType<SessionSignal.TurnCompleted>()).Status);
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void Claude_InterruptAHangingTurn_ThenAFollowUp_UsageIsPerTurn()
    {
        var r = ReplayClaude("k_interrupt_then_followup");

        var turns = r.Signals.OfType<SessionSignal.TurnCompleted>().ToList();
        Assert.Equal(["interrupted", "completed"], turns.Select(t => t.Status));
        Assert.All(turns, t => Assert.True(t.Usage!.CostUsd >= 0));
        Assert.True(r.Outcome.Succeeded);
    }

    [Fact]
    public void BothProtocols_AnAskAnsweredTwiceOrUnknown_WritesNothing()
    {
        var codex = new CodexAppServerParser("p", new JsonObject { ["cwd"] = "/w" }, serveApprovals: true);
        codex.TakeWrites();
        codex.Parse(new(false, """{"id":5,"method":"item/commandExecution/requestApproval","params":{"command":"ls","commandActions":[],"cwd":"/w"}}"""));
        var reference = Assert.IsType<SessionSignal.ApprovalAsked>(Assert.Single(codex.TakeSignals())).Ref;
        codex.Answer(reference, approve: true, null);
        codex.Answer(reference, approve: false, null);
        codex.Answer("999", approve: true, null);
        Assert.Equal(["""{"id":5,"result":{"decision":"accept"}}"""], codex.TakeWrites());

        var claude = new ClaudeCodeOutputParser(serveApprovals: true);
        claude.Parse(new(false, """{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"}}}"""));
        claude.Answer("r1", approve: false, "no");
        claude.Answer("r1", approve: true, null);
        Assert.Equal(["""{"type":"control_response","response":{"subtype":"success","request_id":"r1","response":{"behavior":"deny","message":"no"}}}"""], claude.TakeWrites());
    }

    private static Replayed ReplayCodex(string name)
    {
        var lines = Load(name);
        var threadStart = (JsonObject)lines.First(l => l.Out && Str(l.Msg, "method") == "thread/start").Msg["params"]!.DeepClone();
        var prompt = Str(lines.First(l => l.Out && Str(l.Msg, "method") == "turn/start").Msg["params"]!["input"]![0], "text")!;
        var workspace = Str(threadStart, "cwd")!;
        var parser = new CodexAppServerParser(prompt, threadStart, serveApprovals: true, paths: new SandboxPathMap(workspace, null));
        return Replay(parser, lines, (msg, first) =>
        {
            switch (Str(msg, "method"))
            {
                case "turn/interrupt":
                    parser.Interrupt();
                    break;
                case "turn/start" when !first:
                    parser.StartTurn(Str(msg["params"]!["input"]![0], "text")!);
                    break;
                case null when Str(msg["result"], "decision") is { } decision:
                    var accepted = decision == "accept";
                    parser.Answer(msg["id"]!.ToJsonString(), accepted, null);
                    break;
            }
        });
    }

    private static Replayed ReplayClaude(string name)
    {
        var lines = Load(name);
        var prompt = Str(lines.First(l => l.Out && Str(l.Msg, "type") == "user").Msg["message"], "content")!;
        var workspace = Str(lines.First(l => !l.Out && Str(l.Msg, "subtype") == "init").Msg, "cwd")!;
        var parser = new ClaudeCodeOutputParser(null, prompt, serveApprovals: true, paths: new SandboxPathMap(workspace, null));
        return Replay(parser, lines, (msg, first) =>
        {
            switch (Str(msg, "type"))
            {
                case "user" when !first:
                    parser.StartTurn(Str(msg["message"], "content")!);
                    break;
                case "control_request" when Str(msg["request"], "subtype") == "interrupt":
                    parser.Interrupt();
                    break;
                case "control_response":
                    var answer = msg["response"]!;
                    parser.Answer(Str(answer, "request_id")!, Str(answer["response"], "behavior") == "allow", Str(answer["response"], "message"));
                    break;
            }
        });
    }

    /// <summary>CLI lines are parsed; at each client line the action it stands for is performed and our next write must equal it.</summary>
    private static Replayed Replay(ISessionProtocol parser, List<(bool Out, JsonObject Msg)> lines, Action<JsonObject, bool> act)
    {
        var signals = new List<SessionSignal>();
        var events = new List<HarnessEvent>();
        var written = new Queue<string>(parser.TakeWrites());
        var firstOfKind = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (isOut, msg) in lines)
        {
            if (isOut)
            {
                var kind = Str(msg, "method") ?? Str(msg, "type") ?? "answer";
                act(msg, firstOfKind.Add(kind));
                foreach (var w in parser.TakeWrites())
                {
                    written.Enqueue(w);
                }

                Assert.True(written.TryDequeue(out var ours), $"the recorded client wrote {msg.ToJsonString()}; ours wrote nothing");
                AssertSameMessage(msg, JsonNode.Parse(ours)!.AsObject());
            }
            else
            {
                events.AddRange(parser.Parse(new HarnessProcess.OutputLine(false, msg.ToJsonString())));
                signals.AddRange(parser.TakeSignals());
                foreach (var w in parser.TakeWrites())
                {
                    written.Enqueue(w);
                }
            }
        }

        signals.AddRange(parser.TakeSignals());
        Assert.Empty(written);
        return new Replayed(signals, events, parser.Complete(0));
    }

    /// <summary>Equal JSON, apart from who we say we are in <c>initialize</c> and the ids of our own control requests.</summary>
    private static void AssertSameMessage(JsonObject recorded, JsonObject ours)
    {
        if (Str(recorded, "method") == "initialize")
        {
            Assert.Equal("initialize", Str(ours, "method"));
            return;
        }

        if (Str(recorded, "type") == "control_request")
        {
            // Our own request ids: any unique name will do.
            recorded = (JsonObject)recorded.DeepClone();
            ours = (JsonObject)ours.DeepClone();
            recorded.Remove("request_id");
            ours.Remove("request_id");
        }

        Assert.True(JsonNode.DeepEquals(recorded, ours), $"recorded: {recorded.ToJsonString()}\nours:     {ours.ToJsonString()}");
    }

    private static List<(bool Out, JsonObject Msg)> Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Harnesses", "Recorded", "probe", name + ".jsonl");
        return
        [
            .. File.ReadAllLines(path).Where(l => l.Length > 0).Select(l =>
            {
                var node = JsonNode.Parse(l.Replace("<probe>", "/probe", StringComparison.Ordinal))!;
                return (Str(node, "dir") == "->", node["msg"]!.AsObject());
            }),
        ];
    }

    private static string? Str(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
