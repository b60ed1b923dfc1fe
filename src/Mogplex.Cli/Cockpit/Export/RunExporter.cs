using System.Globalization;
using System.Text;
using System.Text.Json;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Json;

namespace Mogplex.Cli.Cockpit.Export;

/// <summary>
/// The export drawer's files (cockpit.md): a run as it is in the cockpit's state, written to
/// <c>$MOGPLEX_HOME/exports/&lt;run&gt;-&lt;UTC time&gt;.&lt;ext&gt;</c>, so it works in every transport,
/// a replay too. <c>json</c>: one object, the run and its events; <c>jsonl</c>: a snapshot line,
/// the events as <c>mogplex runs events &lt;id&gt; --json</c> prints them, and for an ended run the
/// <c>{runId, status}</c> line a follow ends with, which the stdio transport replays into the same
/// run; <c>md</c>: a summary to read. The folder is 0700 and the file 0600, and neither is reached
/// through a symbolic link: a link where the folder should be is refused, and the file is created
/// new (<c>O_EXCL</c>: a link, or any file, at its name is never written through).
/// </summary>
public static class RunExporter
{
    public static readonly IReadOnlyList<string> Formats = ["json", "jsonl", "md"];

    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes <paramref name="run"/> in <paramref name="format"/> under <paramref name="exports"/>; the file's path.</summary>
    /// <exception cref="IOException">The folder is a link or not a folder, or the file could not be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Not allowed to write there.</exception>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<string> WriteAsync(CockpitRun run, string format, string exports, DateTimeOffset now, CancellationToken ct)
    {
        if (!Formats.Contains(format))
        {
            throw new ArgumentException($"unknown export format {format} (json, jsonl or md)", nameof(format));
        }

        var parent = Path.GetDirectoryName(Path.GetFullPath(exports));
        if (parent is not null && !Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent, Folder);
        }

        RefuseLink(exports);
        if (!Directory.Exists(exports))
        {
            Directory.CreateDirectory(exports, Folder);
        }

        // Made just now or found: either way not a link, and the owner's alone.
        RefuseLink(exports);
        File.SetUnixFileMode(exports, Folder);

        var content = format switch
        {
            "json" => Json(run),
            "jsonl" => Jsonl(run),
            _ => Markdown(run),
        };
        var stem = $"{FileName(run.Id)}-{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
        for (var n = 1; ; n++)
        {
            var path = Path.Combine(exports, n == 1 ? $"{stem}.{format}" : $"{stem}-{n}.{format}");
            try
            {
                await using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = File0600 });
                await file.WriteAsync(Encoding.UTF8.GetBytes(content), ct);
                return path;
            }
            catch (IOException) when (n < 100 && Occupied(path))
            {
                // Something (another export this second, or a planted link) has the name: the next one.
            }
        }
    }

    /// <summary>One object: <c>{run: {...}, events: [...]}</c>.</summary>
    public static string Json(CockpitRun run)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("run");
            WriteRun(writer, run);
            writer.WriteStartArray("events");
            foreach (var e in run.Events)
            {
                JsonSerializer.Serialize(writer, e, MogplexJsonContext.Default.RunEvent);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>The lines the stdio transport replays into the same run.</summary>
    public static string Jsonl(CockpitRun run)
    {
        var lines = new StringBuilder();
        lines.Append(Line(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "snapshot");
            w.WritePropertyName("run");
            WriteRun(w, run);
            w.WriteEndObject();
        })).Append('\n');
        foreach (var e in run.Events)
        {
            lines.Append(JsonSerializer.Serialize(e, MogplexJsonContext.Default.RunEvent)).Append('\n');
        }

        if (run.IsTerminal)
        {
            lines.Append(Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("runId", run.Id);
                w.WriteString("status", run.Status);
                w.WriteEndObject();
            })).Append('\n');
        }

        return lines.ToString();
    }

    /// <summary>A summary to read: what the run was, what it used (per turn), and its timeline.</summary>
    public static string Markdown(CockpitRun run)
    {
        // Every text here came through the reducer: already safe for a terminal.
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Run {run.Id}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"- status: {run.Status}{(run.Awaiting is null ? "" : $", awaiting {run.Awaiting}")}\n");
        md.Append(CultureInfo.InvariantCulture, $"- harness: {run.Harness ?? "-"}{(run.Model is null ? "" : $" ({run.Model})")}\n");
        md.Append(CultureInfo.InvariantCulture, $"- branch: {run.Branch ?? "-"}\n");
        md.Append(CultureInfo.InvariantCulture, $"- turns: {run.Turns}\n");
        md.Append(CultureInfo.InvariantCulture, $"- tokens: {run.InputTokens} in ({run.CachedInputTokens} cached), {run.OutputTokens} out; cost {Reducer.Money(run.CostUsd)}\n");
        if (run.Error is { Length: > 0 } error)
        {
            md.Append(CultureInfo.InvariantCulture, $"- error: {error}\n");
        }

        if (run.Usage.Count > 0)
        {
            md.Append("\n## Usage per turn\n\n| turn | in | cached | out | cost |\n| --- | ---: | ---: | ---: | ---: |\n");
            foreach (var t in run.Usage)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {(t.Turn == 0 ? "outside a turn" : t.Turn)} | {t.InputTokens} | {t.CachedInputTokens} | {t.OutputTokens} | {Reducer.Money(t.CostUsd)} |\n");
            }
        }

        md.Append("\n## Timeline\n\n");
        foreach (var row in run.Timeline)
        {
            md.Append(CultureInfo.InvariantCulture, $"- **{row.Kind.ToString().ToLowerInvariant()}** {row.Text.Replace("\n", "\n  ", StringComparison.Ordinal)}");
            md.Append(row.Decision is null ? "" : $" [{row.Decision}]").Append('\n');
            if (row.Detail is { } detail)
            {
                md.Append("\n  ```\n  ").Append(detail.Replace("```", "ʼʼʼ", StringComparison.Ordinal).Replace("\n", "\n  ", StringComparison.Ordinal)).Append("\n  ```\n\n");
            }
        }

        return md.ToString();
    }

    /// <summary>The run as <c>GET /runs/{id}</c> names its fields (what the stdio transport reads back).</summary>
    private static void WriteRun(Utf8JsonWriter w, CockpitRun run)
    {
        w.WriteStartObject();
        w.WriteString("runId", run.Id);
        w.WriteString("status", run.Status);
        Optional(w, "harness", run.Harness);
        Optional(w, "model", run.Model);
        Optional(w, "repoId", run.RepoId);
        if (run.Branch is not null)
        {
            w.WriteStartObject("branch");
            w.WriteString("working", run.Branch);
            w.WriteEndObject();
        }

        w.WriteBoolean("interactive", run.Interactive);
        w.WriteNumber("turns", run.Turns);
        Optional(w, "awaiting", run.Awaiting);

        Optional(w, "error", run.Error);
        w.WriteStartObject("usage");
        w.WriteNumber("inputTokens", run.InputTokens);
        w.WriteNumber("cachedInputTokens", run.CachedInputTokens);
        w.WriteNumber("outputTokens", run.OutputTokens);
        w.WriteNumber("costUsd", run.CostUsd);
        w.WriteEndObject();

        w.WriteEndObject();
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    private static string Line(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A link (or anything but a folder) where the folder should be is refused: nothing is written through it.</summary>
    private static void RefuseLink(string folder)
    {
        var info = new FileInfo(folder);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"{folder} is a symbolic link; nothing is exported through it");
        }

        if (info.Exists)
        {
            throw new IOException($"{folder} is a file, not a folder");
        }
    }

    /// <summary>Something is at <paramref name="path"/>: a file, a folder, or a link (even one to nothing).</summary>
    private static bool Occupied(string path) => Path.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static string FileName(string runId)
    {
        var name = new string([.. runId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
        return name.Length == 0 ? "run" : name[..Math.Min(name.Length, 80)];
    }
}
