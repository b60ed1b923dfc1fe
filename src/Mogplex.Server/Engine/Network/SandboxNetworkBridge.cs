using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// The command that brings a sandbox's network up: in the sandbox's own network namespace (only
/// loopback), one <c>socat</c> per <see cref="BridgeListener"/> listens on a loopback port and
/// forwards each connection to a Unix socket bound in from the server (the
/// <see cref="EgressProxy"/>, or a <see cref="LoopbackForward"/>); once every port listens, the
/// shell execs the harness command in its place. The listeners stay children of the harness
/// process, in its process group, and end with the sandbox.
/// </summary>
public static class SandboxNetworkBridge
{
    /// <summary>How long the bridge waits for its listeners before giving up (exit 125).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Exit code of the wrapper when a listener could not start (the harness never ran).</summary>
    public const int FailedExitCode = 125;

    /// <summary>
    /// <c>[shell, "-c", script, "mogplex-bridge", ..command]</c>: argv to run inside the sandbox
    /// instead of <paramref name="command"/> (the script ends in <c>exec "$@"</c>).
    /// </summary>
    public static IReadOnlyList<string> Wrap(IReadOnlyList<BridgeListener> listeners, IReadOnlyList<string> command, string shell = "/bin/sh", string socat = "socat")
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        return [shell, "-c", Script(listeners, socat), "mogplex-bridge", .. command];
    }

    /// <summary>
    /// The <c>sh</c> script behind <see cref="Wrap"/>: starts the listeners, waits until each one
    /// listens (its socket shows in <c>/proc/net/tcp</c> or <c>tcp6</c>, which needs <c>/proc</c>
    /// mounted in the sandbox), then <c>exec "$@"</c>. If a listener exits first, or
    /// <see cref="StartTimeout"/> passes, it exits <see cref="FailedExitCode"/> with a message on stderr.
    /// </summary>
    public static string Script(IReadOnlyList<BridgeListener> listeners, string socat = "socat")
    {
        if (listeners.DistinctBy(l => (l.Address, l.Port)).Count() != listeners.Count)
        {
            throw new ArgumentException("two bridge listeners on one address and port", nameof(listeners));
        }

        var sb = new StringBuilder();
        sb.Append("pids=\n");
        foreach (var l in listeners)
        {
            var (listen, _, _) = Describe(l);
            sb.Append(CultureInfo.InvariantCulture, $"{Quote(socat)} {listen},fork,reuseaddr UNIX-CONNECT:{Quote(l.SocketPath)} </dev/null >/dev/null &\n");
            sb.Append("pids=\"$pids $!\"\n");
        }

        var attempts = (int)(StartTimeout.TotalMilliseconds / 25);
        sb.Append("i=0\nwhile :; do\n  ready=1\n");
        foreach (var l in listeners)
        {
            var (_, table, entry) = Describe(l);
            sb.Append(CultureInfo.InvariantCulture, $"  grep -qF '{entry}' {table} 2>/dev/null || ready=0\n");
        }

        sb.Append("  [ \"$ready\" = 1 ] && break\n");
        // A listener that exited stays a zombie until the shell waits for it (kill -0 still
        // succeeds then): read its state instead.
        sb.Append("  for p in $pids; do\n");
        sb.Append("    case \"$(cat /proc/$p/stat 2>/dev/null)\" in\n");
        sb.Append(CultureInfo.InvariantCulture, $"      ''|*') Z '*) echo 'mogplex: the sandbox network bridge (socat) exited' >&2; exit {FailedExitCode} ;;\n");
        sb.Append("    esac\n  done\n");
        sb.Append(CultureInfo.InvariantCulture, $"  i=$((i + 1)); [ \"$i\" -lt {attempts} ] || {{ echo 'mogplex: the sandbox network bridge did not start listening' >&2; exit {FailedExitCode}; }}\n");
        sb.Append("  sleep 0.025\ndone\nexec \"$@\"\n");
        return sb.ToString();
    }

    /// <summary>The socat listen address, the /proc table and the table's LISTEN entry of <paramref name="l"/>.</summary>
    private static (string Listen, string Table, string Entry) Describe(BridgeListener l)
    {
        if (l.Port is < 1 or > 65535)
        {
            throw new ArgumentException($"port {l.Port} is out of range", nameof(l));
        }

        if (!l.SocketPath.StartsWith('/') || !l.SocketPath.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-'))
        {
            // Also keeps the path free of what socat's address syntax and the shell would interpret.
            throw new ArgumentException($"socket path '{l.SocketPath}' must be absolute, of letters, digits, '/', '.', '_' and '-'", nameof(l));
        }

        if (!IPAddress.TryParse(l.Address, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"listen address '{l.Address}' must be a loopback address", nameof(l));
        }

        // /proc/net/tcp{,6} print each 32-bit word of the address as the kernel stores it (network
        // order read as little-endian), the port as 4 hex digits; state 0A is LISTEN.
        var bytes = address.GetAddressBytes();
        var hex = new StringBuilder();
        for (var w = 0; w < bytes.Length; w += 4)
        {
            for (var b = w + 3; b >= w; b--)
            {
                hex.Append(bytes[b].ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        var zeros = new string('0', bytes.Length * 2);
        var entry = FormattableString.Invariant($" {hex}:{l.Port:X4} {zeros}:0000 0A ");
        return address.AddressFamily == AddressFamily.InterNetwork
            ? ($"TCP4-LISTEN:{l.Port},bind={address}", "/proc/net/tcp", entry)
            : ($"TCP6-LISTEN:{l.Port},bind=[{address}],ipv6only=1", "/proc/net/tcp6", entry);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
