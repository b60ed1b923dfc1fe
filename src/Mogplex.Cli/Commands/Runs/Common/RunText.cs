using System.Text.Json;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs.Common;

/// <summary>How runs and events read for people.</summary>
public static class RunText
{
    /// <summary>Width the event type is padded to (the longest type, <c>assistant_message</c>).</summary>
    public const int TypeWidth = 17;

    /// <summary><c>&lt;working&gt; (base &lt;base&gt;[, created])</c>.</summary>
    public static string Branch(JsonElement run)
    {
        var working = Text.OneLine(Fields.Str(run, "branch", "working") ?? "-");
        var baseBranch = Text.OneLine(Fields.Str(run, "branch", "base") ?? "-");
        return Fields.Bool(run, "branch", "createBranch") ? $"{working} (base {baseBranch}, created)" : $"{working} (base {baseBranch})";
    }

    /// <summary><c>&lt;createdAt&gt;  &lt;type padded&gt;  [tool=&lt;toolName&gt;  ]&lt;message&gt;</c>.</summary>
    public static string EventLine(JsonElement e)
    {
        var tool = Fields.Str(e, "toolName");
        var prefix = string.IsNullOrEmpty(tool) ? "" : $"tool={Text.OneLine(tool)}  ";
        return $"{Text.OneLine(Fields.Str(e, "createdAt"))}  {Text.OneLine(Fields.Str(e, "type")).PadRight(TypeWidth)}  {prefix}{Text.OneLine(Fields.Str(e, "message"))}".TrimEnd();
    }

    public static bool IsTerminal(string? status) => status is not null && Mogplex.Contracts.Runs.RunStatuses.IsTerminal(status);
}
