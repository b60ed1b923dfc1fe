using System.Diagnostics;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>Process group probes with real processes.</summary>
public sealed class SignalsTests
{
    [Fact]
    public async Task GroupAlive_OnlyZombiesLeftInTheGroup_False()
    {
        // A group leader that never reaps its child: the exited child stays a zombie in the group
        // (as bubblewrap's sandbox init does when its parent dies first).
        using var leader = Process.Start(new ProcessStartInfo("setsid", ["bash", "-c", "sleep 0 & exec sleep 300"]) { UseShellExecute = false })!;
        var pgid = leader.Id;
        await WaitForZombieChildAsync(pgid);

        var aliveWithLeader = Signals.GroupAlive(pgid);
        leader.Kill();
        await leader.WaitForExitAsync(ServerFixture.Ct).WaitAsync(TimeSpan.FromSeconds(10), ServerFixture.Ct);

        Assert.True(aliveWithLeader);
        Assert.False(Signals.GroupAlive(pgid));
    }

    [Fact]
    public void GroupAlive_NoSuchGroup_False()
    {
        Assert.False(Signals.GroupAlive(int.MaxValue - 7));
        Assert.False(Signals.GroupAlive(1));
    }

    private static async Task WaitForZombieChildAsync(int parent) =>
        await Waits.UntilAsync(
            () => Task.FromResult(Directory.EnumerateDirectories("/proc").Any(d => IsZombieChildOf(d, parent))),
            found => found,
            TimeSpan.FromSeconds(10),
            "the child to exit unreaped");

    private static bool IsZombieChildOf(string procDir, int parent)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(procDir, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" && fields[1] == parent.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return false;
        }
    }
}
