using System.Text.Json;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>Reads what the CLI printed, as cli.md § Output defines it; any other shape fails the test.</summary>
public static class CliOutput
{
    /// <summary>The lines of an output that ends with a newline (an empty output has none).</summary>
    public static IReadOnlyList<string> Lines(string output)
    {
        if (output.Length == 0)
        {
            return [];
        }

        Assert.True(output.EndsWith('\n'), $"output does not end with a newline:\n{output}");
        return output[..^1].Split('\n');
    }

    /// <summary>NDJSON: every line one JSON object, nothing else.</summary>
    public static IReadOnlyList<JsonElement> JsonLines(string output) => [.. Lines(output).Select(ParseObject)];

    /// <summary>Exactly one line holding one JSON object.</summary>
    public static JsonElement SingleObject(string output) => ParseObject(Assert.Single(Lines(output)));

    /// <summary>How cli.md prints one event: <c>&lt;createdAt&gt;  &lt;type padded&gt;  [tool=&lt;toolName&gt;  ]&lt;message&gt;</c>.</summary>
    public static string EventLine(JsonElement e)
    {
        var tool = e.GetProperty("toolName").GetString();
        var line = $"{e.GetProperty("createdAt").GetString()}  {e.GetProperty("type").GetString(),-17}  {(tool is null ? "" : $"tool={tool}  ")}{e.GetProperty("message").GetString()}";
        return line.TrimEnd();
    }

    public static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    /// <summary>
    /// A table: the header must be <paramref name="headers"/> and every cell must start in its
    /// header's column (aligned with spaces). Returns the rows' cells.
    /// </summary>
    public static IReadOnlyList<string[]> Table(string output, params string[] headers)
    {
        var lines = Lines(output);
        Assert.NotEmpty(lines);
        var starts = new int[headers.Length];
        var at = 0;
        for (var i = 0; i < headers.Length; i++)
        {
            starts[i] = lines[0].IndexOf(headers[i], at, StringComparison.Ordinal);
            Assert.True(i == 0 ? starts[i] == 0 : starts[i] >= at + 2, $"header '{headers[i]}' missing or out of place in '{lines[0]}'");
            at = starts[i] + headers[i].Length;
        }

        Assert.Equal(lines[0].TrimEnd(), lines[0]);
        var rows = new List<string[]>();
        foreach (var line in lines.Skip(1))
        {
            var cells = new string[headers.Length];
            for (var i = 0; i < headers.Length; i++)
            {
                var end = i + 1 < headers.Length ? starts[i + 1] : line.Length;
                Assert.True(line.Length >= end, $"row '{line}' is shorter than the header '{lines[0]}'");
                var cell = line[starts[i]..end];
                Assert.True(i + 1 == headers.Length || cell.EndsWith("  ", StringComparison.Ordinal), $"column {headers[i]} of '{line}' is not followed by two spaces");
                Assert.False(cell.StartsWith(' '), $"column {headers[i]} of '{line}' does not start under its header");
                cells[i] = cell.TrimEnd();
            }

            rows.Add(cells);
        }

        return rows;
    }

    private static JsonElement ParseObject(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            Assert.Fail($"not one JSON object: '{line}': {ex.Message}");
            throw;
        }
    }
}
