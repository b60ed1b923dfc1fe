using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary>
/// <c>mogplexd runs prune --older-than AGE</c>: removes the events of runs that finished longer
/// ago than AGE (the runs stay, with their status, error, usage and commit) and the sandboxes that
/// are no longer active and were last active longer ago (their records, lifecycle logs and, in this
/// data folder, their folders). Never an active run's events or an active sandbox.
/// </summary>
public static partial class RunCommands
{
    /// <summary>Runs whose events one transaction deletes: short write transactions let the server keep writing.</summary>
    private const int RunsPerBatch = 20;

    public static Command Create(GlobalOptions global)
    {
        var runs = new Command("runs", "Maintain stored runs.");

        var olderThan = new Option<string>("--older-than")
        {
            Description = "An age: a whole number and s, m, h, d or w (e.g. 30d, 12h)",
            Required = true,
        };
        var prune = new Command(
            "prune",
            "Remove the events of runs that finished longer ago than the age, and the stopped sandboxes last active before it "
            + "(records and folders). The runs stay, with their status. Active runs and sandboxes are never touched. "
            + "Example: mogplexd runs prune --older-than 30d")
        { olderThan };
        prune.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var text = parse.GetValue(olderThan)!.Trim();
            var age = ParseAge(text) ?? throw new OperatorException($"--older-than must be a positive whole number followed by s, m, h, d or w (e.g. 30d, 12h), not '{text}'");
            var before = ctx.Time.GetUtcNow() - age;
            await PruneAsync(ctx, text, before, ct);
        }, ct));

        runs.Subcommands.Add(prune);
        return runs;
    }

    /// <summary>30d, 12h, 90m, 45s, 2w; null when not one of those, not positive or over a thousand years.</summary>
    public static TimeSpan? ParseAge(string text)
    {
        var match = AgePattern().Match(text);
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        var unit = match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(1),
            "m" => TimeSpan.FromMinutes(1),
            "h" => TimeSpan.FromHours(1),
            "d" => TimeSpan.FromDays(1),
            _ => TimeSpan.FromDays(7),
        };
        // Up to a thousand years: any further back is before every run.
        return n * unit.TotalDays > 365_000 ? null : unit * n;
    }

    private static async Task PruneAsync(OperatorContext ctx, string age, DateTimeOffset before, CancellationToken ct)
    {
        var rows = new List<string[]>();
        long events = 0;
        var runCount = 0;
        while (await ctx.Store.Events.PruneAsync(before, RunsPerBatch, ct) is { Count: > 0 } batch)
        {
            foreach (var run in batch)
            {
                runCount++;
                events += run.EventsRemoved;
                rows.Add(["run", run.RunId, run.Status, Table.Time(run.FinishedAt), Count(run.EventsRemoved, "event")]);
            }
        }

        var sandboxes = await ctx.Store.Sandboxes.PruneAsync(before, ct);
        foreach (var sandbox in sandboxes)
        {
            rows.Add(["sandbox", sandbox.Id, sandbox.Status, Table.Time(sandbox.LastActiveAt), RemoveFolder(ctx.DataDir, sandbox.Id)]);
        }

        if (rows.Count > 0)
        {
            Table.Write(["KIND", "ID", "STATUS", "SINCE", "REMOVED"], rows);
        }

        await Console.Error.WriteLineAsync(
            $"pruned {Count(events, "event")} of {Count(runCount, "run")} and {Count(sandboxes.Count, "sandbox")} older than {age} (before {Table.Time(before)})");
    }

    /// <summary>
    /// Removes the sandbox's folder when it is in this data folder (another node's folder is removed
    /// by that node's maintenance, which sees its record gone). A link in its place is removed, never followed.
    /// </summary>
    private static string RemoveFolder(string dataDir, string sandboxId)
    {
        if (!Guid.TryParse(sandboxId, out _))
        {
            return "record";
        }

        var path = Path.Combine(dataDir, "sandboxes", sandboxId);
        var entry = new DirectoryInfo(path);
        try
        {
            if (entry.LinkTarget is not null)
            {
                File.Delete(path);
                return "record, link";
            }

            if (!entry.Exists)
            {
                return "record";
            }

            entry.Delete(recursive: true);
            return "record, folder";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not remove {path}: {ex.Message} (the server's maintenance tries again)");
            return "record (folder left)";
        }
    }

    private static string Count(long n, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? "" : noun.EndsWith('x') ? "es" : "s")}");

    [GeneratedRegex("^([0-9]{1,12})([smhdw])$")]
    private static partial Regex AgePattern();
}
