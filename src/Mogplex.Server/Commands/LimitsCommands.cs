using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Isolation;

namespace Mogplex.Server.Commands;

/// <summary>
/// <c>mogplexd limits delegate --user NAME|UID</c> (as root): hands this data folder's cgroup v1
/// memory and pids groups to the user an unprivileged <c>mogplexd serve</c> runs as, so that it
/// bounds each run's memory and processes with control groups instead of rlimits alone. Control
/// groups do not survive a reboot: run it before the server starts (e.g. an <c>ExecStartPre=+</c>).
/// </summary>
public static class LimitsCommands
{
    public static Command Create(GlobalOptions global)
    {
        var limits = new Command("limits", "Per-run resource limits.");
        var user = new Option<string>("--user")
        {
            Description = "The user mogplexd serve runs as: a name or a numeric uid",
            Required = true,
        };
        var delegateCommand = new Command(
            "delegate",
            "As root: hand this data folder's control groups (cgroup v1 memory and pids) to the user an unprivileged "
            + "mogplexd serve runs as, so each run's memory and processes are bounded by control groups. "
            + "Example: sudo mogplexd limits delegate --user mogplex --data-dir /var/lib/mogplex")
        { user };
        delegateCommand.SetAction(async (parse, ct) =>
        {
            try
            {
                if (!Environment.IsPrivilegedProcess)
                {
                    throw new OperatorException("limits delegate must run as root (it makes control groups and hands them over)");
                }

                var dataDir = DataDirectory.Resolve(parse.GetValue(global.DataDir));
                var (uid, gid) = await ResolveUserAsync(parse.GetValue(user)!.Trim(), ct);
                IReadOnlyList<string> made;
                try
                {
                    made = RunLimits.Delegate(dataDir, uid, gid);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
                {
                    throw new OperatorException(ex.Message);
                }

                foreach (var dir in made)
                {
                    Console.Out.WriteLine(dir);
                }

                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"delegated this data folder's control groups to uid {uid}; restart mogplexd serve to use them"));
                return 0;
            }
            catch (OperatorException ex)
            {
                await Console.Error.WriteLineAsync("error: " + ex.Message);
                return 1;
            }
        });
        limits.Subcommands.Add(delegateCommand);
        return limits;
    }

    /// <summary>A numeric uid (its primary group when it has an account, else the same number) or an account name.</summary>
    private static async Task<(int Uid, int Gid)> ResolveUserAsync(string value, CancellationToken ct)
    {
        if (value.Length == 0 || value.StartsWith('-'))
        {
            throw new OperatorException($"--user must be a user name or a uid, not '{value}'");
        }

        var numeric = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n);
        var uid = numeric ? n : await IdAsync("-u", value, ct) ?? throw new OperatorException($"no user named '{value}'");
        if (uid == 0)
        {
            throw new OperatorException("root makes its own control groups: --user names the unprivileged user mogplexd serve runs as");
        }

        var gid = await IdAsync("-g", value, ct) ?? (numeric ? n : uid);
        return (uid, gid);
    }

    private static async Task<int?> IdAsync(string flag, string user, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("id") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(flag);
        psi.ArgumentList.Add("--");
        psi.ArgumentList.Add(user);
        using var p = Process.Start(psi) ?? throw new OperatorException("could not run id");
        var output = await p.StandardOutput.ReadToEndAsync(ct);
        await p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return p.ExitCode == 0 && int.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }
}
