namespace Mogplex.Server.Runs.Permissions;

/// <summary>What a rule or a call is about: the part before the colon of a descriptor.</summary>
public enum DescriptorKind
{
    /// <summary><c>bash:&lt;command&gt;</c></summary>
    Bash,

    /// <summary><c>write:&lt;repo-relative path&gt;</c></summary>
    Write,

    /// <summary><c>read:&lt;path or pattern&gt;</c></summary>
    Read,

    /// <summary><c>mcp:&lt;server&gt;/&lt;tool&gt;</c></summary>
    Mcp,

    /// <summary><c>net:&lt;url&gt;</c></summary>
    Net,
}

/// <summary>A rule's verdict, most permissive first: <c>allow</c> &gt; <c>ask</c> &gt; <c>deny</c>.</summary>
public enum Verdict
{
    Deny = 0,
    Ask = 1,
    Allow = 2,
}

/// <summary>
/// One thing a tool call does, <c>kind:argument</c> (<c>bash:git status</c>, <c>write:src/a.cs</c>).
/// </summary>
public readonly record struct Descriptor(DescriptorKind Kind, string Argument)
{
    public override string ToString() => $"{Descriptors.Name(Kind)}:{Argument}";
}

/// <summary>
/// One rule of a run's <c>permissions</c>: a descriptor whose argument is a shell-style glob
/// (<c>*</c> matches any characters, <c>/</c> included; <c>?</c> one character), optionally with
/// where it came from after the last <c>@</c> (<c>bash:git status@project</c>).
/// </summary>
public sealed record PermissionRule(Verdict Verdict, DescriptorKind Kind, string Pattern, string? Source, string Text)
{
    public const int MaxLength = 500;

    /// <summary>Sources a rule may name (where a client read it from).</summary>
    private static readonly HashSet<string> s_sources = new(StringComparer.Ordinal) { "project", "user", "local", "session", "cli", "policy" };

    public bool Matches(Descriptor descriptor) => descriptor.Kind == Kind && Glob.IsMatch(Pattern, descriptor.Argument);

    /// <summary>Parses <c>kind:pattern[@source]</c>; the error names the rule and what is wrong.</summary>
    public static (PermissionRule? Rule, string? Error) Parse(Verdict verdict, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, "a permission rule is empty");
        }

        var trimmed = text.Trim();
        if (trimmed.Length > MaxLength)
        {
            return (null, $"a permission rule exceeds {MaxLength} characters");
        }

        if (trimmed.Any(char.IsControl))
        {
            return (null, "a permission rule contains a control character");
        }

        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || Descriptors.KindOf(trimmed[..colon]) is not { } kind)
        {
            return (null, $"permission rule '{trimmed}' must start with bash:, write:, read:, mcp: or net:");
        }

        var pattern = trimmed[(colon + 1)..];
        string? source = null;
        var at = pattern.LastIndexOf('@');
        if (at >= 0 && s_sources.Contains(pattern[(at + 1)..]))
        {
            source = pattern[(at + 1)..];
            pattern = pattern[..at];
        }

        return pattern.Length == 0
            ? (null, $"permission rule '{trimmed}' has nothing after '{trimmed[..(colon + 1)]}' (use * for everything)")
            : (new PermissionRule(verdict, kind, pattern, source, trimmed), null);
    }
}

/// <summary>The names of descriptor kinds on the wire.</summary>
public static class Descriptors
{
    public static string Name(DescriptorKind kind) => kind switch
    {
        DescriptorKind.Bash => "bash",
        DescriptorKind.Write => "write",
        DescriptorKind.Read => "read",
        DescriptorKind.Mcp => "mcp",
        _ => "net",
    };

    public static DescriptorKind? KindOf(string name) => name switch
    {
        "bash" => DescriptorKind.Bash,
        "write" => DescriptorKind.Write,
        "read" => DescriptorKind.Read,
        "mcp" => DescriptorKind.Mcp,
        "net" => DescriptorKind.Net,
        _ => null,
    };
}
