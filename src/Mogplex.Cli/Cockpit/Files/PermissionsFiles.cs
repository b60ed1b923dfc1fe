using System.Text;
using System.Text.Json;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Cockpit.Files;

/// <summary>
/// The permissions files (cockpit.md, Files): <c>$MOGPLEX_HOME/permissions.json</c> (global) and
/// <c>$MOGPLEX_HOME/projects/&lt;repo-slug&gt;/permissions.json</c> (the repository's), each
/// <c>{"version": 1, "mode": "approval"|"auto", "rules": {"allow": [], "ask": [], "deny": []}}</c>.
/// Layers: built-in (nothing: the server's default) → global → project. The mode of the nearest
/// layer that sets one wins; the rules of every layer are sent together, each with its source
/// (<c>@user</c>, <c>@project</c>), and the server gives each call the most permissive verdict of
/// the rules that match it (interactive.md, Permissions). A file that is not exactly right (bad
/// JSON, an unknown field, a rule the server would refuse, writable by others) is an error that
/// stops runs from starting, never skipped: skipping it could drop a <c>deny</c> rule.
/// Both files live under the home folder, never in the repository.
/// </summary>
public static class PermissionsFiles
{
    public const int MaxBytes = 64 * 1024;

    public const int MaxRules = 200;

    /// <summary>The server takes rules of at most 500 characters, the source the cockpit appends (<c>@project</c>) included.</summary>
    public const int MaxRuleLength = 500 - 8;

    private static readonly string[] s_kinds = ["bash:", "write:", "read:", "mcp:", "net:"];

    public static string GlobalPath(string home) => Path.Combine(home, "permissions.json");

    public static string ProjectPath(string home, string slug) => Path.Combine(home, "projects", slug, "permissions.json");

    /// <summary>Reads both layers (the project's only when the cockpit knows its repository) and merges them.</summary>
    public static ResolvedPermissions Load(string home, string? projectSlug)
    {
        var layers = new List<PermissionsLayer>();
        var errors = new List<string>();
        foreach (var (name, path) in new[] { ("global", GlobalPath(home)), ("project", projectSlug is null ? null : ProjectPath(home, projectSlug)) })
        {
            if (path is null)
            {
                continue;
            }

            var (layer, error) = Read(path, name);
            if (error is not null)
            {
                errors.Add(error);
            }
            else if (layer is not null)
            {
                layers.Add(layer);
            }
        }

        return Merge(layers, errors);
    }

    /// <summary>One file: null when there is none; the error names the file and what is wrong.</summary>
    public static (PermissionsLayer? Layer, string? Error) Read(string path, string name)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path))
            {
                return (null, null);
            }

            var others = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
            if (!OperatingSystem.IsWindows() && ((File.GetUnixFileMode(path) & others) != 0 || (File.GetUnixFileMode(Path.GetDirectoryName(path)!) & others) != 0))
            {
                return (null, $"{path} (or its folder) can be written by other users, so its rules cannot be trusted: chmod 600 the file and 700 its folder");
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length > MaxBytes)
            {
                return (null, $"{path} is larger than {MaxBytes / 1024} KiB");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read {path}: {ex.Message}");
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            return Parse(document.RootElement, path, name);
        }
        catch (JsonException ex)
        {
            return (null, $"{path} is not valid JSON (line {(ex.LineNumber ?? 0) + 1}): fix or remove it");
        }
    }

    private static (PermissionsLayer? Layer, string? Error) Parse(JsonElement root, string path, string name)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, $"{path} must hold one JSON object");
        }

        string? mode = null;
        var rules = new Dictionary<string, List<string>> { ["allow"] = [], ["ask"] = [], ["deny"] = [] };
        var version = false;
        foreach (var field in root.EnumerateObject())
        {
            switch (field.Name)
            {
                case "version":
                    if (field.Value.ValueKind != JsonValueKind.Number || !field.Value.TryGetInt32(out var v) || v != 1)
                    {
                        return (null, $"{path}: version must be 1");
                    }

                    version = true;
                    break;
                case "mode":
                    mode = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : null;
                    if (mode is not ("approval" or "auto"))
                    {
                        return (null, $"{path}: mode must be \"approval\" or \"auto\"");
                    }

                    break;
                case "rules":
                    if (field.Value.ValueKind != JsonValueKind.Object)
                    {
                        return (null, $"{path}: rules must be an object with allow, ask and deny lists");
                    }

                    foreach (var list in field.Value.EnumerateObject())
                    {
                        if (!rules.TryGetValue(list.Name, out var into))
                        {
                            return (null, $"{path}: unknown rule list '{Terminal.Text.OneLine(list.Name)}' (allow, ask, deny)");
                        }

                        if (list.Value.ValueKind != JsonValueKind.Array)
                        {
                            return (null, $"{path}: rules.{list.Name} must be a list of rules");
                        }

                        foreach (var item in list.Value.EnumerateArray())
                        {
                            var rule = item.ValueKind == JsonValueKind.String ? item.GetString()!.Trim() : null;
                            if (RuleError(rule) is { } error)
                            {
                                return (null, $"{path}: rules.{list.Name}: {error}");
                            }

                            into.Add(rule!);
                        }
                    }

                    break;
                default:
                    return (null, $"{path}: unknown field '{Terminal.Text.OneLine(field.Name)}' (version, mode, rules)");
            }
        }

        return version
            ? (new PermissionsLayer(name, path, mode, rules["allow"], rules["ask"], rules["deny"]), null)
            : (null, $"{path}: \"version\": 1 is missing");
    }

    /// <summary>Why the server would refuse <paramref name="rule"/> (interactive.md, Permissions); null when it is a rule.</summary>
    public static string? RuleError(string? rule)
    {
        if (string.IsNullOrEmpty(rule))
        {
            return "a rule must be a non-empty string";
        }

        if (rule.Length > MaxRuleLength)
        {
            return $"a rule exceeds {MaxRuleLength} characters";
        }

        if (rule.Any(char.IsControl))
        {
            return $"rule '{Terminal.Text.OneLine(rule)}' contains a control character";
        }

        var kind = s_kinds.FirstOrDefault(k => rule.StartsWith(k, StringComparison.Ordinal));
        return kind is null
            ? $"rule '{Terminal.Text.OneLine(rule)}' must start with bash:, write:, read:, mcp: or net:"
            : rule.Length == kind.Length ? $"rule '{Terminal.Text.OneLine(rule)}' has nothing after '{kind}' (use * for everything)" : null;
    }

    private static ResolvedPermissions Merge(List<PermissionsLayer> layers, List<string> errors)
    {
        var rules = layers
            .SelectMany(l => new[] { ("allow", l.Allow), ("ask", l.Ask), ("deny", l.Deny) }
                .SelectMany(list => list.Item2.Select(r => new SourcedRule(list.Item1, r, l))))
            .ToList();
        if (rules.Count > MaxRules)
        {
            errors.Add($"the permissions files hold {rules.Count} rules together ({string.Join(", ", layers.Select(l => l.Path))}); a run takes at most {MaxRules}");
        }

        var modeLayer = layers.LastOrDefault(l => l.Mode is not null);
        return new ResolvedPermissions(modeLayer?.Mode, modeLayer, rules, errors);
    }

    /// <summary>
    /// Sets the mode of the file at <paramref name="path"/> (<c>/permissions approval|auto</c>
    /// writes the global one), keeping its rules: the folder made 0700, the file written 0600 beside
    /// it and renamed over it (a reader sees the old file or the new one). A file that does not
    /// read cleanly is left as it is: the error says what to fix.
    /// </summary>
    public static string? WriteMode(string path, string mode)
    {
        var (layer, error) = Read(path, "global");
        if (error is not null)
        {
            return error + " (nothing was written)";
        }

        return OwnerOnly.ReplaceJson(path, writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("mode", mode);
            writer.WriteStartObject("rules");
            foreach (var (name, list) in new[] { ("allow", layer?.Allow ?? []), ("ask", layer?.Ask ?? []), ("deny", layer?.Deny ?? []) })
            {
                writer.WriteStartArray(name);
                foreach (var rule in list)
                {
                    writer.WriteStringValue(rule);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }
}

/// <summary>One permissions file as read.</summary>
public sealed record PermissionsLayer(string Name, string Path, string? Mode, IReadOnlyList<string> Allow, IReadOnlyList<string> Ask, IReadOnlyList<string> Deny);

/// <summary>A rule and the file it came from.</summary>
public sealed record SourcedRule(string Verdict, string Rule, PermissionsLayer Layer)
{
    /// <summary>The rule as sent: its source after the last <c>@</c> (<c>user</c> for the global file, <c>project</c>).</summary>
    public string Wire => $"{Rule}@{(Layer.Name == "project" ? "project" : "user")}";
}

/// <summary>The layers merged: what each run started from the cockpit gets.</summary>
public sealed record ResolvedPermissions(string? Mode, PermissionsLayer? ModeLayer, IReadOnlyList<SourcedRule> Rules, IReadOnlyList<string> Errors)
{
    public static readonly ResolvedPermissions None = new(null, null, [], []);

    /// <summary>The first problem, which keeps runs from starting until it is fixed.</summary>
    public string? Error => Errors.Count > 0 ? Errors[0] : null;

    /// <summary>The <c>permissions</c> of a run start; null when no file has a rule.</summary>
    public PermissionRules? ToRequest() => Rules.Count == 0 ? null : new PermissionRules
    {
        Allow = Pick("allow"),
        Ask = Pick("ask"),
        Deny = Pick("deny"),
    };

    /// <summary>What <c>/permissions</c> shows: the mode and each rule, each with its source file.</summary>
    public IReadOnlyList<string> Describe()
    {
        var lines = new List<string>();
        if (Errors.Count > 0)
        {
            lines.AddRange(Errors.Select(e => "error: " + e));
        }

        lines.Add(Mode is not null ? $"mode {Mode} ({ModeLayer!.Name}: {ModeLayer.Path})"
            : "mode: the server's default (no permissions file sets one)");
        lines.AddRange(Rules.Select(r => $"{r.Verdict} {r.Rule} ({r.Layer.Name}: {r.Layer.Path})"));
        if (Rules.Count == 0)
        {
            lines.Add("no rules (the server's built-in layer allows low-risk reads)");
        }

        return lines;
    }

    private List<string>? Pick(string verdict)
    {
        var rules = Rules.Where(r => r.Verdict == verdict).Select(r => r.Wire).ToList();
        return rules.Count == 0 ? null : rules;
    }
}
