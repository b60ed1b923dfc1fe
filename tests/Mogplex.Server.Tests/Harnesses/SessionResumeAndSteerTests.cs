using System.Text.Json.Nodes;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>
/// What the session protocols write for a steer and for a resumed conversation, and how they take
/// the harness's refusals: a refused steer becomes the next turn, a refused interrupt (the turn
/// ended first) is no failure, a refused resume breaks the session with the reason.
/// </summary>
public sealed class SessionResumeAndSteerTests
{
    private static readonly JsonObject s_threadStart = new() { ["cwd"] = "/work", ["model"] = "m", ["approvalPolicy"] = "never", ["sandbox"] = "danger-full-access", ["ephemeral"] = false };

    [Fact]
    public void Codex_Resume_AsksForTheStoredThread_WithTheSameSettings_AndSendsNoPrompt()
    {
        var parser = new CodexAppServerParser("the first prompt", s_threadStart, resumeThread: "thread-7");
        Assert.Equal("initialize", Method(Assert.Single(parser.TakeWrites())));

        Feed(parser, """{"id":1,"result":{}}""");
        var writes = parser.TakeWrites().Select(w => JsonNode.Parse(w)!).ToList();

        Assert.Equal(["initialized", "thread/resume"], writes.Select(w => w["method"]!.GetValue<string>()));
        var resume = writes[1]["params"]!;
        Assert.Equal("thread-7", resume["threadId"]!.GetValue<string>());
        Assert.Equal("/work", resume["cwd"]!.GetValue<string>());
        Assert.Null(resume["ephemeral"]);

        // Resumed: nothing is said until a person says it.
        Feed(parser, """{"id":2,"result":{"thread":{"id":"thread-7"}}}""");
        Assert.Empty(parser.TakeWrites());
        Assert.Equal("thread-7", parser.SessionId);
        Assert.False(parser.TurnActive);
        parser.StartTurn("go on");
        var turn = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Equal("turn/start", turn["method"]!.GetValue<string>());
        Assert.Equal("thread-7", turn["params"]!["threadId"]!.GetValue<string>());
        Assert.DoesNotContain("the first prompt", turn.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Codex_AMessageSentWhileResuming_IsTheFirstTurnOnceTheThreadIsBack()
    {
        var parser = new CodexAppServerParser("p", s_threadStart, resumeThread: "thread-7");
        Feed(parser, """{"id":1,"result":{}}""");
        parser.TakeWrites();
        parser.StartTurn("early message");
        Assert.Empty(parser.TakeWrites());

        Feed(parser, """{"id":2,"result":{"thread":{"id":"thread-7"}}}""");

        var turn = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Equal("early message", turn["params"]!["input"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void Codex_ARefusedResume_BreaksTheSession_WithTheReason()
    {
        var parser = new CodexAppServerParser("p", s_threadStart, resumeThread: "gone");
        Feed(parser, """{"id":1,"result":{}}""");

        var events = Feed(parser, """{"id":2,"error":{"code":-32600,"message":"no rollout found for thread id gone"}}""");

        Assert.True(parser.Broken);
        Assert.Contains("refused thread/resume: no rollout found", Assert.Single(events).Message, StringComparison.Ordinal);
        Assert.False(parser.Complete(0).Succeeded);
    }

    [Fact]
    public void Codex_Steer_GoesIntoTheRunningTurn_ARefusalMakesItTheNextTurn()
    {
        var parser = Started();
        Feed(parser, """{"method":"turn/started","params":{"turn":{"id":"turn-a"}}}""");

        Assert.True(parser.Steer("also this"));
        var steer = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Equal("turn/steer", steer["method"]!.GetValue<string>());
        Assert.Equal("turn-a", steer["params"]!["expectedTurnId"]!.GetValue<string>());

        // The turn ended first: codex refuses the steer; the text waits for the next turn.
        var id = steer["id"]!.GetValue<long>();
        var events = Feed(parser, "{\"id\":" + id + ",\"error\":{\"code\":-32600,\"message\":\"no active turn\"}}");
        Assert.False(parser.Broken);
        Assert.Contains("queued for the next one", Assert.Single(events).Message, StringComparison.Ordinal);
        Feed(parser, """{"method":"turn/completed","params":{"turn":{"id":"turn-a","status":"completed"}}}""");
        var next = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Equal("turn/start", next["method"]!.GetValue<string>());
        Assert.Equal("also this", next["params"]!["input"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public void Codex_SteerWithoutARunningTurn_IsAFollowUp()
    {
        var parser = Started();
        Feed(parser, """{"method":"turn/started","params":{"turn":{"id":"turn-a"}}}""");
        Feed(parser, """{"method":"turn/completed","params":{"turn":{"id":"turn-a","status":"completed"}}}""");

        Assert.False(parser.Steer("next"));
        Assert.Equal("turn/start", Method(Assert.Single(parser.TakeWrites())));
    }

    [Fact]
    public void Codex_ARefusedInterrupt_IsNoFailure()
    {
        var parser = Started();
        Feed(parser, """{"method":"turn/started","params":{"turn":{"id":"turn-a"}}}""");
        parser.Interrupt();
        var id = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["id"]!.GetValue<long>();
        Feed(parser, """{"method":"turn/completed","params":{"turn":{"id":"turn-a","status":"completed"}}}""");

        Feed(parser, "{\"id\":" + id + ",\"error\":{\"code\":-32600,\"message\":\"no active turn to interrupt\"}}");

        Assert.False(parser.Broken);
        Assert.True(parser.Complete(0).Succeeded);
    }

    [Fact]
    public void Claude_Resume_SendsNoPrompt_NumbersTurnsOn_AndCannotSteer()
    {
        var parser = new ClaudeCodeOutputParser(prompt: null, turnsBefore: 2);
        Assert.Empty(parser.TakeWrites());
        Assert.Empty(parser.TakeSignals());
        Feed(parser, """{"type":"system","subtype":"init","session_id":"3f1c2a9e-7b7d-4c1e-9a55-2d7f0c1b9e01","model":"m"}""");
        Assert.Equal("3f1c2a9e-7b7d-4c1e-9a55-2d7f0c1b9e01", parser.SessionId);

        parser.StartTurn("go on");
        Assert.Equal("user", JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["type"]!.GetValue<string>());
        Assert.Equal("turn-3", Assert.IsType<SessionSignal.TurnStarted>(Assert.Single(parser.TakeSignals())).TurnId);

        // A steer waits for the running turn.
        Assert.False(parser.Steer("and this"));
        Assert.Empty(parser.TakeWrites());
        Feed(parser, """{"type":"result","subtype":"success","is_error":false,"result":"ok","usage":{"input_tokens":1,"output_tokens":1},"total_cost_usd":0.1}""");
        var queued = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!;
        Assert.Contains("and this", queued.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A restart found no saved thread: a new one starts, nothing is sent, and the first message carries the prompt ahead of its own text (once).</summary>
    [Fact]
    public void Codex_NoSavedThread_ANewOne_TheFirstMessageCarriesThePrompt()
    {
        var parser = new CodexAppServerParser("the first prompt", s_threadStart, carryPrompt: true);
        Assert.Equal("initialize", Method(Assert.Single(parser.TakeWrites())));
        Feed(parser, """{"id":1,"result":{}}""");
        Assert.Equal(["initialized", "thread/start"], parser.TakeWrites().Select(Method));
        Feed(parser, """{"id":2,"result":{"thread":{"id":"thread-new"}}}""");
        Assert.Empty(parser.TakeWrites());
        Assert.False(parser.TurnActive);
        Assert.Equal("thread-new", parser.SessionId);

        parser.StartTurn("go on");
        var input = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["params"]!["input"]!.AsArray();
        Assert.Equal(["the first prompt", "go on"], input.Select(i => i!["text"]!.GetValue<string>()));

        Feed(parser, """{"method":"turn/completed","params":{"turn":{"id":"t1","status":"completed"}}}""");
        parser.StartTurn("and then");
        var next = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["params"]!["input"]!.AsArray();
        Assert.Equal("and then", Assert.Single(next)!["text"]!.GetValue<string>());
    }

    [Fact]
    public void Claude_NoSavedSession_TheFirstMessageCarriesThePrompt_AsTwoTextBlocks()
    {
        var parser = new ClaudeCodeOutputParser(prompt: null, turnsBefore: 1, carried: "the first prompt");
        Assert.Empty(parser.TakeWrites());

        parser.StartTurn("go on");
        var content = JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["message"]!["content"]!.AsArray();
        Assert.Equal(["the first prompt", "go on"], content.Select(c => c!["text"]!.GetValue<string>()));
        Assert.Equal("turn-2", Assert.IsType<SessionSignal.TurnStarted>(Assert.Single(parser.TakeSignals())).TurnId);

        Feed(parser, """{"type":"result","subtype":"success","is_error":false,"result":"ok","usage":{"input_tokens":1,"output_tokens":1},"total_cost_usd":0.1}""");
        parser.StartTurn("and then");
        Assert.Equal("and then", JsonNode.Parse(Assert.Single(parser.TakeWrites()))!["message"]!["content"]!.GetValue<string>());
    }

    private static CodexAppServerParser Started()
    {
        var parser = new CodexAppServerParser("p", s_threadStart);
        Feed(parser, """{"id":1,"result":{}}""");
        Feed(parser, """{"id":2,"result":{"thread":{"id":"thread-1"}}}""");
        parser.TakeWrites();
        return parser;
    }

    private static IReadOnlyList<HarnessEvent> Feed(IHarnessOutputParser parser, string line) =>
        parser.Parse(new HarnessProcess.OutputLine(IsError: false, line));

    private static string Method(string write) => JsonNode.Parse(write)!["method"]!.GetValue<string>();
}
