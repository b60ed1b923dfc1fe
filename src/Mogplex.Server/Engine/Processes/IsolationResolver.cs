using System.Diagnostics;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// Decides once how harnesses are isolated (<c>Sandbox:Isolation</c>: <c>auto</c> uses bubblewrap
/// when it works here, <c>bwrap</c> requires it, <c>none</c> never) and confines process specs:
/// the sandbox is writable, the repo mirror and the harness tools readable, the data folder and
/// the server user's home hidden.
/// </summary>
public sealed class IsolationResolver
{
    private readonly ServeSettings _settings;

    public IsolationResolver(IOptions<SandboxOptions> options, ServeSettings settings, ILogger<IsolationResolver> logger)
    {
        _settings = settings;
        var wanted = options.Value.Isolation;
        var works = wanted != "none" && BubblewrapWorks();
        if (wanted == "bwrap" && !works)
        {
            throw new OptionsValidationException("Sandbox:Isolation", typeof(SandboxOptions), ["Sandbox:Isolation=bwrap but bubblewrap (bwrap) is missing or cannot create namespaces here"]);
        }

        Mode = works ? IsolationMode.Bubblewrap : IsolationMode.None;
        if (Mode == IsolationMode.None)
        {
            logger.LogWarning("Harnesses run without isolation (Sandbox:Isolation={Isolation}): they can see this machine as the server user does", wanted);
        }
    }

    public IsolationMode Mode { get; }

    public ProcessSpec Confine(ProcessSpec spec, string sandboxDirectory, string mirror) => spec with
    {
        WritablePaths = [sandboxDirectory],
        ReadOnlyPaths = [mirror, .. HarnessEnvironment.ToolDirectories()],
        HiddenPaths = [.. HiddenFolders()],
    };

    private IEnumerable<string> HiddenFolders()
    {
        yield return _settings.DataDir;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home) && home != "/")
        {
            yield return home;
        }
    }

    private static bool BubblewrapWorks()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("bwrap", ["--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "--proc", "/proc", "true"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            });
            if (probe is null)
            {
                return false;
            }

            probe.WaitForExit(5_000);
            return probe.HasExited && probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
