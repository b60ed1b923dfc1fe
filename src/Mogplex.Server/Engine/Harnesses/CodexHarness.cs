using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Engine.Sandboxes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The OpenAI Codex CLI: <c>codex exec --json</c>, prompt on stdin (<c>-</c>). Our own isolation
/// confines it, so Codex's sandbox is off (<c>danger-full-access</c>; its bubblewrap inside ours
/// silently fails). <c>CODEX_HOME</c> lives in the sandbox home, outside TMPDIR, as Codex needs.
/// </summary>
public sealed class CodexHarness(IOptionsMonitor<HarnessOptions> options) : IHarness
{
    public string Name => "codex";

    public ProcessSpec BuildProcess(HarnessContext context)
    {
        var o = options.CurrentValue.Codex;
        var env = HarnessEnvironment.Base(context.HomeDirectory);
        // Made by the server in a folder the harness (or the install command) had: through no link.
        env["CODEX_HOME"] = SandboxFolders.Ensure(context.SandboxDirectory, Path.Combine(context.HomeDirectory, ".codex"));
        foreach (var (k, v) in o.Environment)
        {
            env[k] = v;
        }

        List<string> args = ["exec", "--json", "--skip-git-repo-check", "-C", context.WorkingDirectory];
        if (!string.IsNullOrWhiteSpace(o.BaseUrl))
        {
            args.AddRange([
                "-c", "model_provider=mogplex",
                "-c", "model_providers.mogplex.name=mogplex",
                "-c", $"model_providers.mogplex.base_url={o.BaseUrl}",
                "-c", "model_providers.mogplex.wire_api=responses",
                "-c", $"model_providers.mogplex.env_key={o.ApiKeyVariable}",
                "-c", "model_providers.mogplex.supports_websockets=false",
                "-c", "model_providers.mogplex.request_max_retries=0",
                "-c", "model_providers.mogplex.stream_max_retries=0",
            ]);
        }

        args.AddRange([
            "-c", "approval_policy=never", "-c", "analytics.enabled=false",
            "--disable", "plugins", "--disable", "unbounded_connection_retries",
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
            Secrets = [.. o.Environment.Values],
        };
    }

    public IHarnessOutputParser CreateParser() => new CodexOutputParser();
}
