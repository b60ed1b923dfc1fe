using Mogplex.Server.Runs.Permissions;

namespace Mogplex.Server.Tests.Runs;

/// <summary>The run permission policy as tables: globs, rules, the resolver, and how each harness's asks are described.</summary>
public sealed class PermissionResolverTests
{
    private static readonly SandboxPathMap s_paths = new("/data/sandboxes/s1/repo", "/data/sandboxes/s1/home");

    [Theory]
    [InlineData("git status", "git status", true)]
    [InlineData("git *", "git status --short", true)]
    [InlineData("git *", "gitk", false)]
    [InlineData("src/*", "src/a/b/c.cs", true)] // * matches / too
    [InlineData("src/**", "src/a/b/c.cs", true)]
    [InlineData("src/**/*.cs", "src/a/b/c.cs", true)]
    [InlineData("src/*.cs", "src/a/b/c.txt", false)]
    [InlineData("?.txt", "a.txt", true)]
    [InlineData("?.txt", "ab.txt", false)]
    [InlineData("*", "", true)]
    [InlineData("", "", true)]
    [InlineData("a", "", false)]
    [InlineData("rm -rf *", "rm -rf /", true)]
    [InlineData("*push*", "git push origin main", true)]
    public void Glob_Table(string pattern, string text, bool expected) => Assert.Equal(expected, Glob.IsMatch(pattern, text));

    [Fact]
    public void Glob_HostilePattern_IsNotExponential()
    {
        var pattern = string.Concat(Enumerable.Repeat("a*", 200)) + "b";
        var text = new string('a', 5000);

        // Linear-ish with one backtrack point: this returns at once (an exponential matcher would not return at all).
        Assert.False(Glob.IsMatch(pattern, text));
    }

    [Theory]
    [InlineData("bash:git status", "bash", "git status", null)]
    [InlineData("bash:git status@project", "bash", "git status", "project")]
    [InlineData("  write:src/**  ", "write", "src/**", null)]
    [InlineData("bash:scp a user@host:b", "bash", "scp a user@host:b", null)] // '@host:b' is not a source
    [InlineData("mcp:github/*@user", "mcp", "github/*", "user")]
    [InlineData("net:https://pypi.org/*", "net", "https://pypi.org/*", null)]
    [InlineData("read:*", "read", "*", null)]
    public void Rule_Parses(string text, string kind, string pattern, string? source)
    {
        var (rule, error) = PermissionRule.Parse(Verdict.Allow, text);

        Assert.Null(error);
        Assert.Equal(kind, Descriptors.Name(rule!.Kind));
        Assert.Equal(pattern, rule.Pattern);
        Assert.Equal(source, rule.Source);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("git status", "must start with bash:, write:, read:, mcp: or net:")]
    [InlineData("shell:ls", "must start with bash:")]
    [InlineData("bash:", "has nothing after 'bash:'")]
    [InlineData("bash:@project", "has nothing after 'bash:'")]
    [InlineData("bash:ls\u0000", "control character")]
    public void Rule_Refused(string text, string message)
    {
        var (rule, error) = PermissionRule.Parse(Verdict.Deny, text);

        Assert.Null(rule);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Rule_OverMaxLength_Refused()
    {
        var (rule, error) = PermissionRule.Parse(Verdict.Ask, "bash:" + new string('x', PermissionRule.MaxLength));

        Assert.Null(rule);
        Assert.Contains("exceeds 500 characters", error, StringComparison.Ordinal);
    }

    /// <summary>Rules as "verdict kind:pattern" separated by ';'; descriptors as "kind:arg" separated by '|'.</summary>
    [Theory]
    // No rule: the mode decides; a low-risk call is allowed by the default layer.
    [InlineData("", "bash:make test", "medium", "ask", "mode", null)]
    [InlineData("", "bash:ls -la", "low", "allow", "mode", null)]
    [InlineData("", "bash:rm -rf build", "high", "ask", "mode", null)]
    // One rule.
    [InlineData("allow bash:git *", "bash:git status", "medium", "allow", "rule", "bash:git *")]
    [InlineData("deny bash:rm *", "bash:rm -rf /", "high", "deny", "rule", "bash:rm *")]
    [InlineData("deny bash:rm *", "bash:ls", "low", "allow", "mode", null)]
    [InlineData("ask read:*", "read:src/a.cs", "low", "ask", "rule", "read:*")] // a rule beats the default layer
    // Most permissive match wins, whatever the order or the layer it came from.
    [InlineData("deny bash:git *@project;allow bash:git status@user", "bash:git status", "medium", "allow", "rule", "bash:git status@user")]
    [InlineData("allow bash:git status;deny bash:git *", "bash:git status", "medium", "allow", "rule", "bash:git status")]
    [InlineData("deny bash:*;ask bash:git push *", "bash:git push origin main", "high", "ask", "rule", "bash:git push *")]
    // Kinds never cross.
    [InlineData("allow write:*", "bash:touch a", "medium", "ask", "mode", null)]
    // Several descriptors: the least permissive verdict.
    [InlineData("allow write:src/*;deny write:secrets/*", "write:src/a.cs|write:secrets/key", "medium", "deny", "rule", "write:secrets/*")]
    [InlineData("allow write:src/*", "write:src/a.cs|write:docs/b.md", "medium", "ask", "mode", null)]
    [InlineData("allow write:*", "write:src/a.cs|write:docs/b.md", "medium", "allow", "rule", "write:*")]
    public void Resolve_Table(string rules, string descriptors, string risk, string verdict, string by, string? rule)
    {
        var resolver = new PermissionResolver(PermissionMode.Approval, Rules(rules));
        var call = new ToolCall("run_command", [.. descriptors.Split('|').Select(Descriptor)], Enum.Parse<Risk>(risk, ignoreCase: true), "x", null);

        var resolution = resolver.Resolve(call);

        Assert.Equal(Enum.Parse<Verdict>(verdict, ignoreCase: true), resolution.Verdict);
        Assert.Equal(by, resolution.By);
        Assert.Equal(rule, resolution.Rule?.Text);
    }

    [Fact]
    public void Resolve_AutoMode_AllowsEverything_NoDescriptor_Asks()
    {
        var deny = Rules("deny bash:*");
        var call = new ToolCall("run_command", [Descriptor("bash:rm -rf /")], Risk.High, "rm -rf /", null);
        var unknown = new ToolCall("use_remote_tool", [], Risk.Medium, "Task", "Task");

        Assert.Equal(new Resolution(Verdict.Allow, "mode", null), new PermissionResolver(PermissionMode.Auto, deny).Resolve(call));
        Assert.Equal(Verdict.Ask, new PermissionResolver(PermissionMode.Approval, Rules("allow bash:*")).Resolve(unknown).Verdict);
    }

    [Theory]
    [InlineData("/bin/bash -lc \"printf 'hi' > hello.txt\"", "printf 'hi' > hello.txt")]
    [InlineData("/bin/bash -lc 'ls -la'", "ls -la")]
    [InlineData("bash -c \"echo \\\"q\\\"\"", "echo \"q\"")]
    [InlineData("/usr/bin/zsh -lc \"git status\"", "git status")]
    [InlineData("git status", "git status")]
    public void StripShell_Table(string command, string expected) => Assert.Equal(expected, ToolCalls.StripShell(command));

    [Theory]
    [InlineData("ls -la", true, "low")]
    [InlineData("cat a.txt", false, "medium")]
    [InlineData("rm -rf build", true, "high")]
    [InlineData("git push origin main", false, "high")]
    [InlineData("make && curl http://x", false, "high")]
    [InlineData("sudo rm x", false, "high")]
    [InlineData("npm run format", false, "medium")] // 'rm' inside a word is not rm
    [InlineData("echo scp", false, "medium")]
    public void CommandRisk_Table(string command, bool readOnly, string risk) =>
        Assert.Equal(Enum.Parse<Risk>(risk, ignoreCase: true), ToolCalls.CommandRisk(command, readOnly));

    [Fact]
    public void CodexCommand_DescriptorsFromItsActions_RiskFromTypesAndCwd()
    {
        var read = ToolCalls.CodexCommand("/bin/bash -lc \"ls -la && cat a.txt\"", [("listFiles", "ls -la"), ("read", "cat a.txt")], "/data/sandboxes/s1/repo", s_paths);
        var write = ToolCalls.CodexCommand("/bin/bash -lc \"printf hi > hello.txt\"", [("unknown", "printf hi > hello.txt")], "/data/sandboxes/s1/repo/src", s_paths);
        var outside = ToolCalls.CodexCommand("/bin/bash -lc \"ls\"", [("listFiles", "ls")], "/etc", s_paths);

        Assert.Equal(["bash:ls -la", "bash:cat a.txt"], read.Descriptors.Select(d => d.ToString()));
        Assert.Equal(Risk.Low, read.Risk);
        Assert.Equal(".", read.Cwd);
        Assert.Equal("ls -la && cat a.txt", read.Target);
        Assert.Equal(Risk.Medium, write.Risk);
        Assert.Equal("src", write.Cwd);
        Assert.Equal(Risk.High, outside.Risk);
    }

    [Fact]
    public void CodexPatch_PathsRelative_DeleteIsHighRisk()
    {
        var patch = ToolCalls.CodexPatch([new FileChange("/data/sandboxes/s1/repo/src/a.cs", "update", "@@"), new FileChange("/data/sandboxes/s1/repo/b.md", "add", "+x")], s_paths);
        var delete = ToolCalls.CodexPatch([new FileChange("/data/sandboxes/s1/repo/old.txt", "delete", null)], s_paths);
        var outside = ToolCalls.CodexPatch([new FileChange("/etc/cron.d/x", "add", "+x")], s_paths);

        Assert.Equal("apply_patch", patch.Action);
        Assert.Equal(["write:src/a.cs", "write:b.md"], patch.Descriptors.Select(d => d.ToString()));
        Assert.Equal(Risk.Medium, patch.Risk);
        Assert.Equal("src/a.cs, b.md", patch.Target);
        Assert.Equal("delete_file", delete.Action);
        Assert.Equal(Risk.High, delete.Risk);
        Assert.Equal(Risk.High, outside.Risk);
        Assert.Equal("write:/etc/cron.d/x", outside.Descriptors.Single().ToString());
    }

    [Theory]
    [InlineData("Bash", "command", "git push origin main", null, "run_command", "bash:git push origin main", "high")]
    [InlineData("Bash", "command", "make test", null, "run_command", "bash:make test", "medium")]
    [InlineData("Write", "file_path", "/data/sandboxes/s1/repo/hello.txt", null, "apply_patch", "write:hello.txt", "medium")]
    [InlineData("Edit", "file_path", "/data/sandboxes/s1/home/.bashrc", null, "apply_patch", "write:~/.bashrc", "high")]
    [InlineData("Read", "file_path", "/data/sandboxes/s1/repo/src/a.cs", null, "read_files", "read:src/a.cs", "low")]
    [InlineData("Grep", "pattern", "TODO", null, "read_files", "read:TODO", "low")]
    [InlineData("Read", "file_path", "/etc/shadow", "/etc/shadow", "read_files", "read:/etc/shadow", "high")]
    [InlineData("WebFetch", "url", "https://example.org/x", null, "use_remote_tool", "net:https://example.org/x", "high")]
    [InlineData("mcp__github__create_issue", "title", "x", null, "use_remote_tool", "mcp:github/create_issue", "medium")]
    public void Claude_Table(string tool, string field, string value, string? blocked, string action, string descriptor, string risk)
    {
        var call = ToolCalls.Claude(tool, new Dictionary<string, string> { [field] = value }, blocked, s_paths);

        Assert.Equal(action, call.Action);
        Assert.Equal(descriptor, call.Descriptors.Single().ToString());
        Assert.Equal(Enum.Parse<Risk>(risk, ignoreCase: true), call.Risk);
    }

    [Fact]
    public void SameCallFromEitherHarness_SameVerdict()
    {
        var resolver = new PermissionResolver(PermissionMode.Approval, Rules("allow bash:printf *;deny write:secrets/*"));
        var codex = ToolCalls.CodexCommand("/bin/bash -lc \"printf hi > hello.txt\"", [("unknown", "printf hi > hello.txt")], "/data/sandboxes/s1/repo", s_paths);
        var claude = ToolCalls.Claude("Bash", new Dictionary<string, string> { ["command"] = "printf hi > hello.txt" }, null, s_paths);
        var codexPatch = ToolCalls.CodexPatch([new FileChange("/data/sandboxes/s1/repo/secrets/key", "add", "+k")], s_paths);
        var claudeWrite = ToolCalls.Claude("Write", new Dictionary<string, string> { ["file_path"] = "/data/sandboxes/s1/repo/secrets/key" }, null, s_paths);

        Assert.Equal(resolver.Resolve(codex), resolver.Resolve(claude));
        Assert.Equal(Verdict.Allow, resolver.Resolve(codex).Verdict);
        Assert.Equal(resolver.Resolve(codexPatch), resolver.Resolve(claudeWrite));
        Assert.Equal(Verdict.Deny, resolver.Resolve(claudeWrite).Verdict);
    }

    private static List<PermissionRule> Rules(string text) =>
    [
        .. text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(r =>
        {
            var space = r.IndexOf(' ', StringComparison.Ordinal);
            var (rule, error) = PermissionRule.Parse(Enum.Parse<Verdict>(r[..space], ignoreCase: true), r[(space + 1)..]);
            Assert.Null(error);
            return rule!;
        }),
    ];

    private static Descriptor Descriptor(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return new Descriptor(Descriptors.KindOf(text[..colon])!.Value, text[(colon + 1)..]);
    }
}
