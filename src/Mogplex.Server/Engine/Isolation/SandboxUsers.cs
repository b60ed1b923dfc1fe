using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>
/// The host identity a sandbox runs as. When the server is root, each sandbox gets a uid (and gid) of
/// its own from <c>Sandbox:UidRange</c>: no account, no login, no group, owner of nothing on the
/// host but its checkout and home, so root-owned files stay out of reach even where a folder is
/// visible, and no run can signal or read another. When the server is not root there is nothing to
/// switch to: the sandbox runs as the server's uid, in a user namespace without capabilities.
/// A uid is picked from the sandbox's id (the same sandbox usually gets the same uid back) and is
/// never given to two sandboxes of this node at once.
/// </summary>
public sealed partial class SandboxUsers
{
    private readonly object _gate = new();
    private readonly Dictionary<int, string> _inUse = [];
    private readonly int _first;
    private readonly int _count;

    public SandboxUsers(IOptions<SandboxOptions> options)
    {
        var range = options.Value.UidRange.Split('-');
        _first = int.Parse(range[0], CultureInfo.InvariantCulture);
        var last = int.Parse(range[1], CultureInfo.InvariantCulture);
        if (last < _first || _first < 1000)
        {
            throw new OptionsValidationException("Sandbox:UidRange", typeof(SandboxOptions), ["Sandbox:UidRange must be first-last with 1000 <= first <= last"]);
        }

        _count = last - _first + 1;
        IsRoot = Environment.IsPrivilegedProcess;
    }

    /// <summary>Whether sandboxes get uids of their own (the server runs as root).</summary>
    public bool IsRoot { get; }

    /// <summary>The uid the next sandboxes get when the server is not root: its own.</summary>
    public static int ServerUid => (int)GetUid();

    /// <summary>A uid for <paramref name="sandboxId"/> until the returned lease is disposed; null when the server is not root.</summary>
    public UserLease? Acquire(string sandboxId)
    {
        if (!IsRoot)
        {
            return null;
        }

        var start = (int)((uint)StableHash(sandboxId) % (uint)_count);
        lock (_gate)
        {
            for (var i = 0; i < _count; i++)
            {
                var uid = _first + ((start + i) % _count);
                if (_inUse.TryAdd(uid, sandboxId))
                {
                    return new UserLease(this, new SandboxUser(uid, uid));
                }
            }
        }

        throw new InvalidOperationException("every uid of Sandbox:UidRange is in use");
    }

    /// <summary>
    /// Makes <paramref name="path"/> and everything below it the sandbox user's, changing links
    /// themselves and never following one (the tree may hold what a harness made).
    /// </summary>
    public static async Task GiveAsync(string path, SandboxUser user, CancellationToken ct)
    {
        if (!Path.Exists(path))
        {
            return;
        }

        var psi = new ProcessStartInfo("chown") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-R", "-P", "-h", $"{user.Uid}:{user.Gid}", "--", path })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("chown could not be started");
        var err = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("could not hand the sandbox to its user: " + (await err).Trim());
        }
    }

    /// <summary>The sandbox's <c>/etc/passwd</c> and <c>/etc/group</c>: its user (home: the sandbox home) and the usual system names only.</summary>
    public static IReadOnlyList<(string Source, string Target)> WriteAccountFiles(string directory, int uid, int gid, string home)
    {
        Directory.CreateDirectory(directory);
        var passwd = Path.Combine(directory, "passwd");
        var group = Path.Combine(directory, "group");
        var name = uid == 0 ? "root" : "sandbox";
        var lines = new List<string> { "root:x:0:0:root:/root:/usr/sbin/nologin" };
        if (uid != 0)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{name}:x:{uid}:{gid}:Mogplex sandbox:{home}:/bin/bash"));
        }

        lines.Add("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin");
        File.WriteAllText(passwd, string.Join('\n', lines) + "\n");
        var groups = new List<string> { "root:x:0:" };
        if (gid != 0)
        {
            groups.Add(string.Create(CultureInfo.InvariantCulture, $"{name}:x:{gid}:"));
        }

        groups.Add("nogroup:x:65534:");
        File.WriteAllText(group, string.Join('\n', groups) + "\n");
        return [(passwd, "/etc/passwd"), (group, "/etc/group")];
    }

    private void Release(int uid)
    {
        lock (_gate)
        {
            _inUse.Remove(uid);
        }
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            var h = (int)2166136261;
            foreach (var c in s)
            {
                h = (h ^ c) * 16777619;
            }

            return h;
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();

    /// <summary>A sandbox's uid, given back to the range when disposed.</summary>
    public sealed class UserLease(SandboxUsers owner, SandboxUser user) : IDisposable
    {
        private int _released;

        public SandboxUser User { get; } = user;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(User.Uid);
            }
        }
    }
}
