using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Engine.Sandboxes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The OpenAI Codex CLI: <c>codex exec --json</c>, prompt on stdin (<c>-</c>). Our own isolation
/// confines it, so Codex's sandbox is off (<c>danger-full-access</c>; its bubblewrap inside ours
/// silently fails). <c>CODEX_HOME</c> lives in the sandbox home, outside TMPDIR, as Codex needs;
/// it is emptied before the run and removed after it. Shell snapshots are off: Codex writes the
/// harness's whole environment (keys included) into them, and a stopped Codex leaves them behind.
/// </summary>
public sealed class CodexHarness(IOptionsMonitor<HarnessOptions> options) : IHarness
{
    public const string VendorHost = "api.openai.com";

    public string Name => "codex";

    public ProcessSpec BuildProcess(HarnessContext context)
    {
        var o = options.CurrentValue.Codex;
        var env = HarnessEnvironment.Base(context.HomeDirectory);
        var state = Path.Combine(context.HomeDirectory, ".codex");
        HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
        env["CODEX_HOME"] = state;
        var (plain, secrets) = HarnessEnvironment.Split(o);
        foreach (var (k, v) in plain.Concat(secrets))
        {
            env[k] = v;
        }

        List<string> args = ["exec", "--json", "--skip-git-repo-check", "-C", context.WorkingDirectory];
        if (!string.IsNullOrWhiteSpace(o.BaseUrl))
        {
            args.AddRange([
                "-c", "model_provider=mogplex",
                "-c", "model_providers.mogplex.name=mogplex",
                "-c", $"model_providers.mogplex.base_url={ModelEndpoint.V1(o.BaseUrl)}",
                "-c", "model_providers.mogplex.wire_api=responses",
                "-c", $"model_providers.mogplex.env_key={o.ApiKeyVariable}",
                "-c", "model_providers.mogplex.supports_websockets=false",
                "-c", "model_providers.mogplex.request_max_retries=0",
                "-c", "model_providers.mogplex.stream_max_retries=0",
            ]);
        }

        args.AddRange([
            "-c", "approval_policy=never", "-c", "analytics.enabled=false",
            "--disable", "plugins", "--disable", "unbounded_connection_retries", "--disable", "shell_snapshot",
            "--sandbox", "danger-full-access", "--ephemeral",
        ]);
        if (!string.IsNullOrWhiteSpace(o.Model))
        {
            args.AddRange(["-m", o.Model]);
        }

        args.AddRange(o.ExtraArguments);
        args.Add("-");
        return new ProcessSpec
        {
            FileName = o.Command,
            Arguments = args,
            WorkingDirectory = context.WorkingDirectory,
            Environment = env,
            StandardInput = context.Run.Prompt,
            Secrets = [.. secrets.Values],
            StateDirectories = [state],
        };
    }

    public IHarnessOutputParser CreateParser(HarnessContext context)
    {
        var o = options.CurrentValue.Codex;
        return new CodexOutputParser(new HarnessParserContext(SandboxPaths.For(context), NullIfBlank(o.Model), ModelEndpoint.Host(o.BaseUrl, VendorHost)));
    }

    private static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
