using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The Claude Code CLI: <c>claude -p --output-format stream-json --verbose</c>, prompt on stdin,
/// permissions bypassed inside our isolation (<c>IS_SANDBOX=1</c> allows that as root), no
/// non-essential traffic, configuration in the sandbox home.
/// </summary>
public sealed class ClaudeCodeHarness(IOptionsMonitor<HarnessOptions> options) : IHarness
{
    public string Name => "claude-code";

    public ProcessSpec BuildProcess(HarnessContext context)
    {
        var o = options.CurrentValue.ClaudeCode;
        var env = HarnessEnvironment.Base(context.HomeDirectory);
        env["CLAUDE_CONFIG_DIR"] = Path.Combine(context.HomeDirectory, ".claude");
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
        env["IS_SANDBOX"] = "1";
        if (!string.IsNullOrWhiteSpace(o.BaseUrl))
        {
            env["ANTHROPIC_BASE_URL"] = o.BaseUrl;
        }

        foreach (var (k, v) in o.Environment)
        {
            env[k] = v;
        }

        List<string> args = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions", "--no-session-persistence"];
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
            StandardInput = context.Run.Prompt,
            Secrets = [.. o.Environment.Values],
        };
    }

    public IHarnessOutputParser CreateParser() => new ClaudeCodeOutputParser();
}
