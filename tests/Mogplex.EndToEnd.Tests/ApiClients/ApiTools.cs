using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.ApiClients;

/// <summary>
/// The pinned OpenAPI tools in <c>&lt;repo&gt;/.tools/api-tools</c> (scripts/install-api-tools.sh):
/// runs them with their output captured; a failure fails the test with that output.
/// </summary>
public static class ApiTools
{
    /// <summary>Generators and compilers on two shared cores: generous, but bounded.</summary>
    public static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(4);

    private static readonly Lazy<string> s_dir = new(Locate);

    /// <summary>Environment for every tool: no telemetry, update checks or first-run tutorials.</summary>
    private static readonly Dictionary<string, string?> s_quiet = new()
    {
        ["REDOCLY_TELEMETRY"] = "off",
        ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true",
        ["NO_COLOR"] = "1",
        ["FORCE_COLOR"] = "0",
        ["KIOTA_TUTORIAL_ENABLED"] = "false",
        ["KIOTA_OFFLINE_ENABLED"] = "true",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        // `dotnet test` runs us with MSBuild's own variables; a nested `dotnet build` must not inherit them.
        ["MSBuildSDKsPath"] = null,
        ["MSBuildExtensionsPath"] = null,
        ["MSBUILD_EXE_PATH"] = null,
        ["MSBuildLoadMicrosoftTargetsReadOnly"] = null,
    };

    public static string Dir => s_dir.Value;

    public static string NodeModules => Path.Combine(Dir, "node_modules");

    public static string Bin(string name) => Path.Combine(NodeModules, ".bin", name);

    public static string Kiota => Path.Combine(Dir, "kiota", "kiota");

    /// <summary>Runs a tool in <paramref name="workDir"/>; asserts exit code 0 (the message holds its output).</summary>
    public static async Task<CommandResult> RunCheckedAsync(string what, string fileName, IReadOnlyList<string> args, string workDir, IReadOnlyDictionary<string, string?>? env = null)
    {
        var result = await RunAsync(fileName, args, workDir, env);
        Assert.True(result.ExitCode == 0, $"{what} failed (exit {result.ExitCode})\n{result}");
        return result;
    }

    public static Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> args, string workDir, IReadOnlyDictionary<string, string?>? env = null)
    {
        var all = new Dictionary<string, string?>(s_quiet);
        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return ProcessRunner.RunAsync(fileName, args, all, workDir, ToolTimeout);
    }

    /// <summary>Makes the pinned node_modules resolvable from the work folder (imports of eventsource, @types/node).</summary>
    public static void LinkNodeModules(string workDir) =>
        File.CreateSymbolicLink(Path.Combine(workDir, "node_modules"), NodeModules);

    private static string Locate()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "mogplex.slnx")))
        {
            root = root.Parent;
        }

        Assert.True(root is not null, $"cannot find the repository root (a folder with mogplex.slnx) above {AppContext.BaseDirectory}");
        var dir = Path.Combine(root!.FullName, ".tools", "api-tools");
        Assert.True(
            File.Exists(Path.Combine(dir, "node_modules", ".bin", "openapi-ts")) && File.Exists(Path.Combine(dir, "kiota", "kiota")),
            $"the API client tools are missing from {dir}: run scripts/install-api-tools.sh (./test.sh does)");
        return dir;
    }
}
