using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The Claude Code CLI as a session: <c>claude -p --input-format stream-json --output-format
/// stream-json --verbose</c>, the prompt as the first <c>user</c> line on stdin, which closes when
/// the turn's <c>result</c> came (<see cref="ClaudeCodeOutputParser"/>),
/// permissions bypassed inside our isolation (<c>IS_SANDBOX=1</c> allows that as root), no
/// non-essential traffic, no retries of its own (<c>CLAUDE_CODE_MAX_RETRIES=0</c>, like Codex's
/// <c>request_max_retries=0</c>: else a bad key takes minutes of backoff to fail; the operator
/// may set another value in <c>Environment</c>), configuration in the sandbox home, emptied
/// before the run and removed after it.
/// </summary>
public sealed class ClaudeCodeHarness(IOptionsMonitor<HarnessOptions> options) : IHarness
{
    public const string VendorHost = "api.anthropic.com";

    public string Name => "claude-code";

    /// <summary>Claude's own settings in permission mode <c>approval</c>: ask about every tool.</summary>
    public const string AskEverything = """{"permissions":{"ask":["Bash","Edit","Write","MultiEdit","NotebookEdit","WebFetch","WebSearch","Read","Glob","Grep"]}}""";

    public ProcessSpec BuildProcess(HarnessContext context)
    {
        var o = options.CurrentValue.ClaudeCode;
        var env = HarnessEnvironment.Base(context.HomeDirectory);
        var state = Path.Combine(context.HomeDirectory, ".claude");
        if (context.Resume)
        {
            // The conversation to resume is in there: kept, only made safe to use.
            Sandboxes.SandboxFolders.Ensure(context.SandboxDirectory, state);
        }
        else
        {
            HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
        }
        env["CLAUDE_CONFIG_DIR"] = state;
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        env["CLAUDE_CODE_MAX_RETRIES"] = "0";
        var approval = context.Run.PermissionMode == "approval";
        if (!approval)
        {
            env["IS_SANDBOX"] = "1";
        }
        if (!string.IsNullOrWhiteSpace(o.BaseUrl))
        {
            env["ANTHROPIC_BASE_URL"] = ModelEndpoint.Root(o.BaseUrl);
        }

        var (plain, secrets) = HarnessEnvironment.Split(o);
        foreach (var (k, v) in plain.Concat(secrets))
        {
            env[k] = v;
        }

        List<string> args = ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose"];
        // An interactive run's session is kept (in the sandbox home) under the run's id, so that a new
        // process resumes it after a restart; a one-shot run keeps none.
        args.AddRange(!context.Run.Interactive ? ["--no-session-persistence"]
            : context.Resume && !context.CarryPrompt ? ["--resume", Session(context.Run)]
            : ["--session-id", context.Run.Id]);
        // Approval: Claude asks about every tool (its own defaults skip read-only Bash) and we answer
        // (--permission-prompt-tool stdio); the server's policy decides, not Claude's rules.
        args.AddRange(approval
            ? ["--permission-mode", "default", "--permission-prompt-tool", "stdio", "--settings", AskEverything]
            : ["--permission-mode", "bypassPermissions"]);
        var model = string.IsNullOrWhiteSpace(context.Run.Model) ? o.Model : context.Run.Model;
        if (!string.IsNullOrWhiteSpace(model))
        {
            args.AddRange(["--model", model]);
        }

        args.AddRange(o.ExtraArguments);
        return new ProcessSpec
        {
            FileName = o.Command,
            Arguments = args,
            WorkingDirectory = context.WorkingDirectory,
            Environment = env,
            KeepInputOpen = true,
            Secrets = [.. secrets.Values],
            StateDirectories = [state],
        };
    }

    /// <summary>Claude Code saves a session as <c>projects/&lt;its folder&gt;/&lt;session id&gt;.jsonl</c> in its state.</summary>
    public bool ConversationSaved(HarnessContext context) => HarnessEnvironment.HasStateFile(
        context.SandboxDirectory, Path.Combine(context.HomeDirectory, ".claude", "projects"), Session(context.Run) + ".jsonl", depth: 1);

    private static string Session(Storage.RunRecord run) => run.HarnessSession ?? run.Id;

    public IHarnessOutputParser CreateParser(HarnessContext context)
    {
        var o = options.CurrentValue.ClaudeCode;
        var model = !string.IsNullOrWhiteSpace(context.Run.Model) ? context.Run.Model : string.IsNullOrWhiteSpace(o.Model) ? null : o.Model;
        return new ClaudeCodeOutputParser(
            new HarnessParserContext(SandboxPaths.For(context), model, ModelEndpoint.Host(o.BaseUrl, VendorHost)),
            context.Resume ? null : context.Run.Prompt,
            carried: context.CarryPrompt ? context.Run.Prompt : null,
            serveApprovals: context.Run.PermissionMode == "approval",
            paths: new Runs.Permissions.SandboxPathMap(context.CheckoutDirectory, context.HomeDirectory),
            turnsBefore: context.Resume ? context.Run.Turns : 0);
    }
}
