using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Isolation;

namespace Mogplex.Server.Engine.Processes;

/// <summary>What one confined process may see and use (see <see cref="IsolationResolver.Confine"/>).</summary>
public sealed record SandboxView
{
    /// <summary>Folders it may write (the checkout and home for a harness; a server-made git folder for delivery).</summary>
    public required IReadOnlyList<string> Writable { get; init; }

    /// <summary>Folders it may read (the mirror; the checkout, for delivery).</summary>
    public IReadOnlyList<string> ReadOnly { get; init; } = [];

    /// <summary>Server-owned folder for its account files (never visible to it as a folder).</summary>
    public required string AccountDirectory { get; init; }

    /// <summary>Its home (named in its <c>/etc/passwd</c>).</summary>
    public required string Home { get; init; }

    public SandboxUser? User { get; init; }

    public SandboxNetworkMode Network { get; init; } = SandboxNetworkMode.None;

    public EgressBridge? Bridge { get; init; }

    public ResourceLimits? Limits { get; init; }

    /// <summary>Environment added for the bridge (proxy variables).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Decides once how harnesses are isolated (<c>Sandbox:Isolation</c>: <c>auto</c> uses bubblewrap
/// when the full profile works here and otherwise refuses to run harnesses, <c>bwrap</c> requires it
/// at start, <c>none</c> runs them unconfined, an explicit operator choice that <c>/healthz</c> and
/// every run's events warn about) and confines process specs (<see cref="SandboxLaunch"/>).
/// </summary>
public sealed class IsolationResolver
{
    private readonly SandboxOptions _options;
    private readonly ServeSettings _settings;

    public IsolationResolver(IOptions<SandboxOptions> options, ServeSettings settings, SandboxUsers users, ILogger<IsolationResolver> logger)
    {
        _options = options.Value;
        _settings = settings;
        OrphanReaper.KillLeftovers(SandboxOwner.Of(settings.DataDir), logger);
        var wanted = _options.Isolation;
        string? failure = null;
        var works = wanted != "none" && ProfileWorks(users, out failure);
        if (wanted == "bwrap" && !works)
        {
            throw new OptionsValidationException("Sandbox:Isolation", typeof(SandboxOptions), [$"Sandbox:Isolation=bwrap but the sandbox profile does not work here: {failure}"]);
        }

        Mode = works ? IsolationMode.Bubblewrap : IsolationMode.None;
        if (wanted == "none")
        {
            Warning = "Sandbox:Isolation=none: harnesses run unconfined, as the server's user, with the host's network and files";
            logger.LogWarning("{Warning}", Warning);
        }
        else if (!works)
        {
            Refusal = $"no sandbox isolation is available on this server ({failure}); install bubblewrap (scripts/install-deps.sh) or, to run harnesses unconfined, set Sandbox:Isolation=none";
            logger.LogError("Harnesses will not run: {Refusal}", Refusal);
        }

        Network = Mode == IsolationMode.None
            ? SandboxNetworkMode.Host
            : _options.Network switch
            {
                "none" => SandboxNetworkMode.None,
                "host" => SandboxNetworkMode.Host,
                _ => SandboxNetworkMode.Model,
            };
    }

    public IsolationMode Mode { get; }

    /// <summary>Why harnesses are refused (isolation <c>auto</c> without a working sandbox); null when they may run.</summary>
    public string? Refusal { get; }

    /// <summary>The warning of an explicit <c>Sandbox:Isolation=none</c>.</summary>
    public string? Warning { get; }

    /// <summary>The network sandboxes get (the host's when unconfined).</summary>
    public SandboxNetworkMode Network { get; }

    /// <summary>What <c>/healthz</c> shows.</summary>
    public string Name => Refusal is not null ? "unavailable" : Mode == IsolationMode.Bubblewrap ? "bwrap" : "none";

    public ProcessSpec Confine(ProcessSpec spec, SandboxView view)
    {
        var env = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal)
        {
            [SandboxOwner.EnvironmentVariable] = SandboxOwner.Of(_settings.DataDir),
        };
        foreach (var (k, v) in view.Environment)
        {
            env[k] = v;
        }

        var uid = view.User?.Uid ?? SandboxUsers.ServerUid;
        var accounts = Mode == IsolationMode.Bubblewrap
            ? SandboxUsers.WriteAccountFiles(view.AccountDirectory, uid, view.User?.Gid ?? uid, view.Home)
            : [];
        return spec with
        {
            Environment = env,
            WritablePaths = view.Writable,
            ReadOnlyPaths = [.. view.ReadOnly, .. HarnessEnvironment.ToolDirectories(), .. RuntimeDirectories()],
            FileBinds = accounts,
            // Unconfined (isolation none) the harness runs as the server, as the operator chose:
            // folders below the data folder are reachable by path only for the server's user.
            RunAs = Mode == IsolationMode.Bubblewrap ? view.User : null,
            Network = view.Network,
            Bridge = view.Bridge,
            Limits = view.Limits,
            TmpBytes = _options.TmpBytes,
            Bubblewrap = _options.Bubblewrap,
        };
    }

    /// <summary>Where <c>node</c> is installed when that is outside the system folders (e.g. <c>/opt/node</c>).</summary>
    private static IEnumerable<string> RuntimeDirectories()
    {
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var node = Path.Combine(dir, "node");
            if (!File.Exists(node))
            {
                continue;
            }

            var real = new FileInfo(node).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? node;
            if (!real.StartsWith("/usr/", StringComparison.Ordinal))
            {
                // <prefix>/bin/node: the prefix holds its libraries and global modules.
                yield return Path.GetDirectoryName(Path.GetDirectoryName(real)!)!;
            }

            yield break;
        }
    }

    /// <summary>Starts <c>true</c> with the full profile (own uid when root, user and network namespaces, no capabilities).</summary>
    private bool ProfileWorks(SandboxUsers users, out string? failure)
    {
        var probeDir = Path.Combine(_settings.DataDir, "sandboxes", ".probe");
        try
        {
            Directory.CreateDirectory(probeDir);
            using var lease = users.Acquire(".probe");
            var spec = new ProcessSpec { FileName = "/bin/true", WorkingDirectory = "/" };
            var view = new SandboxView { Writable = [], AccountDirectory = probeDir, Home = "/", User = lease?.User, Network = SandboxNetworkMode.None };
            var confined = ConfineForProbe(spec, view, probeDir);
            var argv = SandboxLaunch.BuildArgv(confined, IsolationMode.Bubblewrap);
            var psi = new System.Diagnostics.ProcessStartInfo(argv[0])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var a in argv.Skip(1))
            {
                psi.ArgumentList.Add(a);
            }

            using var probe = System.Diagnostics.Process.Start(psi);
            if (probe is null)
            {
                failure = "bwrap could not be started";
                return false;
            }

            var err = probe.StandardError.ReadToEndAsync();
            if (!probe.WaitForExit(10_000))
            {
                probe.Kill(entireProcessTree: true);
                failure = "the bubblewrap probe did not finish";
                return false;
            }

            failure = probe.ExitCode == 0 ? null : $"bubblewrap failed: {err.Result.Trim()}";
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            failure = "bubblewrap (bwrap) is not installed";
            return false;
        }
        finally
        {
            try
            {
                Directory.Delete(probeDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private ProcessSpec ConfineForProbe(ProcessSpec spec, SandboxView view, string accounts) => spec with
    {
        Bubblewrap = _options.Bubblewrap,
        FileBinds = SandboxUsers.WriteAccountFiles(accounts, view.User?.Uid ?? SandboxUsers.ServerUid, view.User?.Gid ?? SandboxUsers.ServerUid, "/"),
        RunAs = view.User,
        Network = SandboxNetworkMode.None,
    };
}
