using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// Runs on the default harness use the real, pinned Codex CLI (installed by
/// <c>scripts/install-harnesses.sh</c> into <c>.tools/harnesses</c>, where the published mogplexd
/// finds it), talking to the model stand-in on 127.0.0.1: the only part replaced is the model,
/// which cannot exist here. Prompts carry the stand-in's directives (<c>[[write P T]]</c>,
/// <c>[[fail500]]</c>, <c>[[secret]]</c>, see <see cref="StandInScript"/>).
/// </summary>
public static class RealCodex
{
    /// <summary>The model key the server's Codex harness is given (a secret).</summary>
    public const string ModelKey = "stand-in-model-key";

    /// <summary>Starts a model stand-in and points the server's Codex harness at it (the caller disposes it).</summary>
    public static async Task<ModelStandInServer> ConfigureAsync(IDictionary<string, string?> serverEnvironment, string? secret = null)
    {
        var harnesses = HarnessDirectory();
        var codex = harnesses is null ? null : Path.Combine(harnesses, "node_modules", ".bin", "codex");
        Assert.True(File.Exists(codex), $"the pinned Codex CLI is missing ({codex ?? $"no .tools/harnesses above {MogplexdProcess.BinaryPath}"}): run ./scripts/install-harnesses.sh (or set MOGPLEX_HARNESS_DIR)");
        var model = await ModelStandInServer.StartAsync();
        serverEnvironment["MOGPLEXD_Harnesses__Codex__BaseUrl"] = model.OpenAiBaseUrl;
        serverEnvironment["MOGPLEXD_Harnesses__Codex__ApiKeyVariable"] = "MODEL_KEY";
        serverEnvironment["MOGPLEXD_Harnesses__Codex__Secrets__MODEL_KEY"] = ModelKey;
        if (secret is not null)
        {
            serverEnvironment[$"MOGPLEXD_Harnesses__Codex__Secrets__{StandInScript.SecretVariable}"] = secret;
        }

        return model;
    }

    /// <summary>
    /// Where the published mogplexd looks for the harness CLIs: <c>MOGPLEX_HARNESS_DIR</c> (which it
    /// inherits from the tests), else the first <c>.tools/harnesses</c> above its own folder.
    /// </summary>
    private static string? HarnessDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("MOGPLEX_HARNESS_DIR");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured);
        }

        var serverDir = Path.GetDirectoryName(Path.GetFullPath(MogplexdProcess.BinaryPath))!;
        for (var dir = new DirectoryInfo(serverDir); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".tools", "harnesses");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
