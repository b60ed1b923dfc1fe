using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Engine.Sandboxes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The OpenAI Codex CLI as a session: <c>codex app-server</c>, JSON-RPC on stdin and stdout
/// (<see cref="CodexAppServerParser"/>): the prompt is the first turn's input, and stdin closes
/// when the turn has ended, which ends the process. Our own isolation
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
        if (context.Resume)
        {
            // The conversation to resume is in there (its rollout): kept, only made safe to use.
            SandboxFolders.Ensure(context.SandboxDirectory, state);
        }
        else
        {
            HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
        }
        env["CODEX_HOME"] = state;
        var (plain, secrets) = HarnessEnvironment.Split(o);
        foreach (var (k, v) in plain.Concat(secrets))
        {
            env[k] = v;
        }

        List<string> args = ["app-server"];
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
        ]);
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
        var o = options.CurrentValue.Codex;
        var model = NullIfBlank(context.Run.Model) ?? NullIfBlank(o.Model);
        var approval = context.Run.PermissionMode == "approval";
        return new CodexAppServerParser(
            context.Run.Prompt,
            ThreadStart(context, model, approval),
            new HarnessParserContext(SandboxPaths.For(context), model, ModelEndpoint.Host(o.BaseUrl, VendorHost)),
            serveApprovals: approval,
            paths: new Runs.Permissions.SandboxPathMap(context.CheckoutDirectory, context.HomeDirectory),
            resumeThread: context.Resume && !context.CarryPrompt ? context.Run.HarnessSession : null,
            carryPrompt: context.CarryPrompt);
    }

    /// <summary>Codex saves a thread once its first turn starts, as <c>sessions/YYYY/MM/DD/rollout-…-&lt;thread id&gt;.jsonl</c>.</summary>
    public bool ConversationSaved(HarnessContext context) => context.Run.HarnessSession is { } thread
        && HarnessEnvironment.HasStateFile(context.SandboxDirectory, Path.Combine(context.HomeDirectory, ".codex", "sessions"), $"rollout-*-{thread}.jsonl", depth: 3);

    /// <summary>
    /// <c>thread/start</c>: the run's folder, the model, Codex's own sandbox off inside ours; nothing
    /// asked (<c>never</c>), or in permission mode <c>approval</c> every command and patch
    /// (<c>untrusted</c>), which the server's policy answers. An interactive run's thread is kept
    /// on disk (not ephemeral) so that a new process can resume it after a restart.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject ThreadStart(HarnessContext context, string? model, bool approval = false) => new()
    {
        ["cwd"] = context.WorkingDirectory,
        ["model"] = model,
        ["approvalPolicy"] = approval ? "untrusted" : "never",
        ["sandbox"] = "danger-full-access",
        ["ephemeral"] = !context.Run.Interactive,
    };

    private static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
