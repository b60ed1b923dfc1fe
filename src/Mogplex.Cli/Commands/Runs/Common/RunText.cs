using Mogplex.Cli.Terminal;
using Mogplex.Client.Views;

namespace Mogplex.Cli.Commands.Runs.Common;

/// <summary>How runs and events read for people.</summary>
public static class RunText
{
    /// <summary>Width the event type is padded to (the longest type, <c>assistant_message</c>).</summary>
    public const int TypeWidth = 17;

    /// <summary><c>&lt;working&gt; (base &lt;base&gt;[, created])</c>.</summary>
    public static string Branch(RunView run)
    {
        var branch = run.Branch;
        var working = Text.OneLine(branch.Working ?? "-");
        var baseBranch = Text.OneLine(branch.Base ?? "-");
        return branch.CreateBranch ? $"{working} (base {baseBranch}, created)" : $"{working} (base {baseBranch})";
    }

    /// <summary>
    /// <c>#2, waiting for branch</c> (or <c>a worker</c>, <c>the user limit</c>), or null when the run
    /// does not wait (the server sent no <c>queue</c>).
    /// </summary>
    public static string? Queue(RunView run)
    {
        var queue = run.Queue;
        if (!queue.IsWaiting)
        {
            return null;
        }

        var place = queue.Position is { } position ? $"#{position}, " : "";
        var reason = queue.WaitingFor switch
        {
            Mogplex.Contracts.Runs.RunWaitReasons.Branch => "branch",
            Mogplex.Contracts.Runs.RunWaitReasons.Worker => "a worker",
            Mogplex.Contracts.Runs.RunWaitReasons.UserLimit => "the user limit",
            var other => Text.OneLine(other ?? "-"),
        };
        return $"{place}waiting for {reason}";
    }

    /// <summary><c>&lt;createdAt&gt;  &lt;type padded&gt;  [tool=&lt;toolName&gt;  ]&lt;message&gt;</c>.</summary>
    public static string EventLine(RunEventView e)
    {
        var tool = e.ToolName;
        var prefix = string.IsNullOrEmpty(tool) ? "" : $"tool={Text.OneLine(tool)}  ";
        return $"{Text.OneLine(e.CreatedAt)}  {Text.OneLine(e.Type).PadRight(TypeWidth)}  {prefix}{Text.OneLine(e.Message)}".TrimEnd();
    }

    public static bool IsTerminal(string? status) => status is not null && Mogplex.Contracts.Runs.RunStatuses.IsTerminal(status);
}
