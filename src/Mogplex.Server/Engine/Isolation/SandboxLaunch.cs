using System.Globalization;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>
/// The command line that starts a confined process (after <c>setsid</c>), outermost first:
/// <list type="number">
/// <item>a shell that writes its pid into the run's control groups, then execs the rest (every
/// process after it is counted);</item>
/// <item><c>prlimit</c>: per-file size, and processes / data size where no control group bounds them;</item>
/// <item><c>setpriv</c> (server is root): the sandbox's own unprivileged uid and gid, no groups, no
/// capabilities in any set, no_new_privs;</item>
/// <item><c>bwrap</c>: its own user, PID, IPC, UTS, cgroup and (unless <c>Sandbox:Network=host</c>)
/// network namespaces, every capability dropped, no nested user namespaces, a new session, and a
/// root that holds only the system folders, a few files of <c>/etc</c>, the harness tools, the
/// mirror (read-only), the checkout and the sandbox home (writable), a private <c>/tmp</c>;</item>
/// <item>inside (network <c>model</c>): the egress bridge's listeners (<see cref="Network.SandboxNetworkBridge"/>), then the command.</item>
/// </list>
/// Nothing else of the host is mounted: other users' homes, <c>/srv</c>, <c>/opt</c>, <c>/root</c>,
/// <c>/var</c>, keys under <c>/etc</c>, the data folder.
/// </summary>
public static class SandboxLaunch
{
    /// <summary>Files of <c>/etc</c> a harness needs (name resolution, TLS roots, the dynamic linker, time zone, shells).</summary>
    private static readonly string[] s_etc =
    [
        "hosts", "host.conf", "nsswitch.conf", "resolv.conf", "gai.conf", "services", "protocols",
        "ssl", "ca-certificates", "ca-certificates.conf", "pki", "alternatives",
        "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
        "bash.bashrc", "profile", "inputrc", "mime.types", "terminfo", "os-release", "debian_version",
    ];

    /// <summary>System folders shown read-only (a merged-/usr link is shown as the same link).</summary>
    private static readonly string[] s_system = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

    /// <summary>The shell step that enters the control groups (the files follow as arguments, then <c>--</c> and the command).</summary>
    private const string EnterCgroups = "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";

    public static IReadOnlyList<string> BuildArgv(ProcessSpec spec, IsolationMode isolation)
    {
        var argv = new List<string>();
        if (spec.Limits is { } limits)
        {
            if (limits.CgroupProcFiles.Count > 0)
            {
                argv.AddRange(["/bin/sh", "-c", EnterCgroups, "mogplex-enter", .. limits.CgroupProcFiles, "--"]);
            }

            var rlimits = new List<string>();
            AddLimit(rlimits, "--nproc", limits.Processes);
            AddLimit(rlimits, "--fsize", limits.FileBytes);
            AddLimit(rlimits, "--data", limits.DataBytes);
            rlimits.Add("--core=0:0");
            argv.AddRange(["prlimit", .. rlimits, "--"]);
        }

        if (isolation != IsolationMode.Bubblewrap)
        {
            if (spec.RunAs is { } plain)
            {
                argv.AddRange(DropPrivileges(plain));
            }

            argv.Add(spec.FileName);
            argv.AddRange(spec.Arguments);
            return argv;
        }

        // Server is root: an outer bubblewrap (as root, so it reaches every folder to mount, however
        // deep below folders only root may enter) builds the namespaces and the file system; then
        // setpriv drops to the sandbox's uid with nothing left; then an inner bubblewrap, as that uid,
        // puts it in a user namespace of its own without capabilities. The user namespace is never
        // one root made: inside it, host root's files stay host root's.
        // Server is not root: one bubblewrap as the server's uid does it all.
        var outer = new List<string> { spec.Bubblewrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent" };
        if (spec.RunAs is null)
        {
            outer.Insert(1, "--unshare-user");
        }

        if (spec.Network != SandboxNetworkMode.Host)
        {
            outer.Add("--unshare-net");
        }

        argv.AddRange(outer);
        argv.AddRange(Mounts(spec));
        argv.AddRange(["--chdir", spec.WorkingDirectory]);
        if (spec.RunAs is { } user)
        {
            argv.Add("--");
            argv.AddRange(DropPrivileges(user));
            argv.AddRange([spec.Bubblewrap, "--unshare-user", "--bind", "/", "/", "--dev", "/dev", "--chdir", spec.WorkingDirectory]);
        }

        argv.AddRange(["--die-with-parent", "--new-session", "--cap-drop", "ALL", "--disable-userns", "--"]);
        IReadOnlyList<string> command = [spec.FileName, .. spec.Arguments];
        if (spec.Bridge is { Ports.Count: > 0 } bridge && spec.Network == SandboxNetworkMode.Model)
        {
            command = Network.SandboxNetworkBridge.Wrap([.. bridge.Ports.Select(p => new Network.BridgeListener(p.Port, p.SocketPath))], command);
        }

        argv.AddRange(command);
        return argv;
    }

    /// <summary>The sandbox's file system: only what a harness needs, every folder on the way made traversable and empty.</summary>
    private static List<string> Mounts(ProcessSpec spec)
    {
        var argv = new List<string>();
        foreach (var dir in s_system)
        {
            var info = new DirectoryInfo(dir);
            if (info.LinkTarget is { } target)
            {
                argv.AddRange(["--symlink", target, dir]);
            }
            else if (info.Exists)
            {
                argv.AddRange(["--ro-bind", dir, dir]);
            }
        }

        argv.AddRange(["--perms", "0755", "--dir", "/etc"]);
        foreach (var name in s_etc)
        {
            var path = "/etc/" + name;
            if (Path.Exists(path))
            {
                argv.AddRange(["--ro-bind", path, path]);
            }
        }

        foreach (var (source, target) in spec.FileBinds)
        {
            argv.AddRange(["--ro-bind", source, target]);
        }

        argv.AddRange(["--dev", "/dev", "--proc", "/proc"]);
        argv.AddRange(["--size", spec.TmpBytes.ToString(CultureInfo.InvariantCulture), "--perms", "1777", "--tmpfs", "/tmp"]);
        argv.AddRange(["--perms", "0755", "--dir", "/var"]);
        argv.AddRange(["--size", spec.TmpBytes.ToString(CultureInfo.InvariantCulture), "--perms", "1777", "--tmpfs", "/var/tmp"]);
        var made = new HashSet<string>(StringComparer.Ordinal) { "/", "/etc", "/var", "/tmp", "/usr", "/proc", "/dev" };
        var readOnly = spec.ReadOnlyPaths.Where(Path.Exists).Distinct(StringComparer.Ordinal).ToList();
        var writable = spec.WritablePaths.Distinct(StringComparer.Ordinal).ToList();
        var sockets = spec.Bridge is { } bridge && spec.Network == SandboxNetworkMode.Model ? bridge.SocketDirectory : null;
        foreach (var path in readOnly.Concat(writable).Concat(sockets is null ? [] : [sockets]))
        {
            foreach (var parent in Ancestors(path))
            {
                if (made.Add(parent))
                {
                    argv.AddRange(["--perms", "0755", "--dir", parent]);
                }
            }
        }

        foreach (var ro in readOnly)
        {
            argv.AddRange(["--ro-bind", ro, ro]);
        }

        foreach (var rw in writable)
        {
            argv.AddRange(["--bind", rw, rw]);
        }

        if (sockets is not null)
        {
            argv.AddRange(["--ro-bind", sockets, sockets]);
        }

        return argv;
    }

    /// <summary>The folders above <paramref name="path"/>, outermost first (<c>/a/b/c</c>: <c>/a</c>, <c>/a/b</c>).</summary>
    private static IEnumerable<string> Ancestors(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 1; i < parts.Length; i++)
        {
            yield return "/" + string.Join('/', parts.Take(i));
        }
    }

    private static IEnumerable<string> DropPrivileges(SandboxUser user) =>
    [
        "setpriv",
        "--reuid", user.Uid.ToString(CultureInfo.InvariantCulture),
        "--regid", user.Gid.ToString(CultureInfo.InvariantCulture),
        "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
    ];

    private static void AddLimit(List<string> args, string name, long? value)
    {
        if (value is { } v)
        {
            args.Add(string.Create(CultureInfo.InvariantCulture, $"{name}={v}:{v}"));
        }
    }
}
