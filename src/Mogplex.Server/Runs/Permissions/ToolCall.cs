using System.Text.RegularExpressions;

namespace Mogplex.Server.Runs.Permissions;

/// <summary>How much harm a call can do: low (read-only), high (deletes, pushes, network, outside the repo), medium otherwise.</summary>
public enum Risk
{
    Low,
    Medium,
    High,
}

/// <summary>One file a patch changes: repo-relative path, <c>add</c> | <c>update</c> | <c>delete</c>, and its diff.</summary>
public sealed record FileChange(string Path, string Kind, string? Diff);

/// <summary>
/// A tool call a harness asks about, described the same way for Codex and Claude Code:
/// <c>action</c> (<c>run_command</c>, <c>apply_patch</c>, <c>delete_file</c>, <c>use_remote_tool</c>,
/// <c>read_files</c>), the descriptors the rules match, the risk, and what a person is shown.
/// Paths are repo-relative (<c>~/…</c> under the sandbox home); a path outside both stays as the
/// harness gave it and makes the call high risk.
/// </summary>
public sealed record ToolCall(
    string Action,
    IReadOnlyList<Descriptor> Descriptors,
    Risk Risk,
    string Target,
    string? ToolName,
    string? Command = null,
    string? Cwd = null,
    IReadOnlyList<FileChange>? Changes = null);

/// <summary>Builds <see cref="ToolCall"/>s from what each harness sends when it asks.</summary>
public static partial class ToolCalls
{
    /// <summary>Codex command types that only read (<c>commandActions[].type</c>).</summary>
    private static readonly HashSet<string> s_readOnlyActions = new(StringComparer.Ordinal) { "read", "listFiles", "search" };

    private static readonly HashSet<string> s_claudeWriteTools = new(StringComparer.Ordinal) { "Write", "Edit", "MultiEdit", "NotebookEdit" };
    private static readonly HashSet<string> s_claudeReadTools = new(StringComparer.Ordinal) { "Read", "Glob", "Grep", "LS" };
    private static readonly HashSet<string> s_claudeNetTools = new(StringComparer.Ordinal) { "WebFetch", "WebSearch" };

    /// <summary>
    /// Codex <c>item/commandExecution/requestApproval</c>: the shell wrapper (<c>/bin/bash -lc "…"</c>)
    /// is taken off; each parsed command (<c>commandActions[].command</c>) is a descriptor.
    /// </summary>
    public static ToolCall CodexCommand(string command, IReadOnlyList<(string Type, string Command)> actions, string? cwd, SandboxPathMap paths)
    {
        var inner = StripShell(command);
        var commands = actions.Count > 0 ? actions.Select(a => a.Command).Where(c => c.Length > 0).ToList() : [inner];
        if (commands.Count == 0)
        {
            commands = [inner];
        }

        var relativeCwd = cwd is null ? null : paths.Relative(cwd);
        var risk = CommandRisk(inner, readOnly: actions.Count > 0 && actions.All(a => s_readOnlyActions.Contains(a.Type)));
        if (cwd is not null && !paths.IsInside(cwd))
        {
            risk = Risk.High;
        }

        return new ToolCall("run_command", [.. commands.Select(c => new Descriptor(DescriptorKind.Bash, c))], risk, inner, "exec_command", inner, relativeCwd);
    }

    /// <summary>Codex <c>item/fileChange/requestApproval</c>, with the changes of the <c>fileChange</c> item that preceded it.</summary>
    public static ToolCall CodexPatch(IReadOnlyList<FileChange> absoluteChanges, SandboxPathMap paths)
    {
        var changes = absoluteChanges.Select(c => c with { Path = paths.Relative(c.Path) }).ToList();
        var deletes = changes.Any(c => c.Kind == "delete");
        var outside = absoluteChanges.Any(c => !paths.IsInside(c.Path));
        return new ToolCall(
            deletes ? "delete_file" : "apply_patch",
            [.. changes.Select(c => new Descriptor(DescriptorKind.Write, c.Path))],
            deletes || outside ? Risk.High : Risk.Medium,
            string.Join(", ", changes.Select(c => c.Path)),
            "apply_patch",
            Changes: changes);
    }

    /// <summary>Claude Code <c>can_use_tool</c>: <c>tool_name</c>, its <c>input</c> fields, and <c>blocked_path</c> (a path outside what it may touch).</summary>
    public static ToolCall Claude(string toolName, IReadOnlyDictionary<string, string> input, string? blockedPath, SandboxPathMap paths)
    {
        var outside = blockedPath is not null && !paths.IsInside(blockedPath);
        if (toolName == "Bash")
        {
            var command = input.GetValueOrDefault("command") ?? "";
            var risk = outside ? Risk.High : CommandRisk(command, readOnly: false);
            return new ToolCall("run_command", [new Descriptor(DescriptorKind.Bash, command)], risk, command, toolName, command);
        }

        if (s_claudeWriteTools.Contains(toolName))
        {
            var file = input.GetValueOrDefault("file_path") ?? input.GetValueOrDefault("notebook_path") ?? "";
            var path = paths.Relative(file);
            var risk = outside || (file.Length > 0 && !paths.IsInside(file)) ? Risk.High : Risk.Medium;
            var kind = toolName == "Write" ? "add" : "update";
            return new ToolCall("apply_patch", [new Descriptor(DescriptorKind.Write, path)], risk, path, toolName, Changes: [new FileChange(path, kind, null)]);
        }

        if (s_claudeReadTools.Contains(toolName))
        {
            var raw = input.GetValueOrDefault("file_path") ?? input.GetValueOrDefault("path") ?? input.GetValueOrDefault("pattern") ?? "";
            var target = raw.StartsWith('/') ? paths.Relative(raw) : raw;
            var risk = outside || (raw.StartsWith('/') && !paths.IsInside(raw)) ? Risk.High : Risk.Low;
            return new ToolCall("read_files", [new Descriptor(DescriptorKind.Read, target)], risk, target, toolName);
        }

        if (s_claudeNetTools.Contains(toolName))
        {
            var url = input.GetValueOrDefault("url") ?? input.GetValueOrDefault("query") ?? "";
            return new ToolCall("use_remote_tool", [new Descriptor(DescriptorKind.Net, url)], Risk.High, url, toolName);
        }

        if (toolName.StartsWith("mcp__", StringComparison.Ordinal))
        {
            var parts = toolName[5..].Split("__", 2);
            var name = parts.Length == 2 ? $"{parts[0]}/{parts[1]}" : parts[0];
            return new ToolCall("use_remote_tool", [new Descriptor(DescriptorKind.Mcp, name)], Risk.Medium, name, toolName);
        }

        // A tool we cannot describe: no descriptor, so a person decides.
        return new ToolCall("use_remote_tool", [], Risk.Medium, toolName, toolName);
    }

    /// <summary><c>/bin/bash -lc "cmd"</c> (or sh, zsh; -c or -lc) → <c>cmd</c>; anything else as it is.</summary>
    public static string StripShell(string command)
    {
        var match = ShellWrapper().Match(command.Trim());
        if (!match.Success)
        {
            return command.Trim();
        }

        var quoted = match.Groups["body"].Value;
        return match.Groups["q"].Value == "\"" ? quoted.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal) : quoted;
    }

    /// <summary>High for deletes, pushes and network commands in command position (after <c>;</c>, <c>&amp;</c>, <c>|</c>, <c>sudo</c>…); low when the harness said it only reads; else medium.</summary>
    public static Risk CommandRisk(string command, bool readOnly) =>
        HighRiskCommand().IsMatch(command) ? Risk.High : readOnly ? Risk.Low : Risk.Medium;

    [GeneratedRegex("""^(?:/usr)?(?:/bin/)?(?:ba|z)?sh\s+-l?c\s+(?<q>["'])(?<body>.*)\k<q>$""", RegexOptions.Singleline)]
    private static partial Regex ShellWrapper();

    [GeneratedRegex(@"(?:^|[;&|(`]|\$\()\s*(?:sudo\s+|xargs\s+|env\s+)?(?:rm|rmdir|shred|curl|wget|ssh|scp|sftp|nc|ncat|netcat|rsync|git\s+push|git\s+clean|dd)(?=$|[\s;&|)`])")]
    private static partial Regex HighRiskCommand();
}

/// <summary>Turns the sandbox's absolute paths into what events show (repo-relative, <c>~/…</c> under the home).</summary>
public sealed class SandboxPathMap(string workspace, string? home)
{
    private readonly string _workspace = workspace.TrimEnd('/');
    private readonly string? _home = home?.TrimEnd('/');

    public bool IsInside(string path) => Under(Normalize(path), _workspace) is not null;

    public string Relative(string path)
    {
        var normalized = Normalize(path);
        if (Under(normalized, _workspace) is { } rel)
        {
            return rel.Length == 0 ? "." : rel;
        }

        if (_home is not null && Under(normalized, _home) is { } inHome)
        {
            return inHome.Length == 0 ? "~" : "~/" + inHome;
        }

        return path;
    }

    private string Normalize(string path) =>
        path.StartsWith('/') ? Path.GetFullPath(path) : Path.GetFullPath(Path.Combine(_workspace, path));

    private static string? Under(string path, string root) =>
        path == root ? "" : path.StartsWith(root + "/", StringComparison.Ordinal) ? path[(root.Length + 1)..] : null;
}
