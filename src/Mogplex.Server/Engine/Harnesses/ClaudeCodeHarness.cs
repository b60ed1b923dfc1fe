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

    public ProcessSpec BuildProcess(HarnessContext context)
    {
        var o = options.CurrentValue.ClaudeCode;
        var env = HarnessEnvironment.Base(context.HomeDirectory);
        var state = Path.Combine(context.HomeDirectory, ".claude");
        HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
        env["CLAUDE_CONFIG_DIR"] = state;
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        env["CLAUDE_CODE_MAX_RETRIES"] = "0";
        env["IS_SANDBOX"] = "1";
        if (!string.IsNullOrWhiteSpace(o.BaseUrl))
        {
            env["ANTHROPIC_BASE_URL"] = ModelEndpoint.Root(o.BaseUrl);
        }

        var (plain, secrets) = HarnessEnvironment.Split(o);
        foreach (var (k, v) in plain.Concat(secrets))
        {
            env[k] = v;
        }

        List<string> args = ["-p", "--input-format", "stream-json", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions", "--no-session-persistence"];
        if (!string.IsNullOrWhiteSpace(o.Model))
        {
            args.AddRange(["--model", o.Model]);
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

    public IHarnessOutputParser CreateParser(HarnessContext context)
    {
        var o = options.CurrentValue.ClaudeCode;
        var model = string.IsNullOrWhiteSpace(o.Model) ? null : o.Model;
        return new ClaudeCodeOutputParser(new HarnessParserContext(SandboxPaths.For(context), model, ModelEndpoint.Host(o.BaseUrl, VendorHost)), context.Run.Prompt);
    }
}
