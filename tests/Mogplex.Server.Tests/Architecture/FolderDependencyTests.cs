using System.Text.RegularExpressions;

namespace Mogplex.Server.Tests.Architecture;

/// <summary>
/// The top-level folders of <c>src/Mogplex.Server</c> depend on each other in one direction only
/// (docs/architecture.md): no circle, and none of the edges an outside review found and we cut
/// comes back. A dependency is any reference to another folder's namespace in a source file: a
/// <c>using</c>, a fully qualified name, or a name qualified relative to the file's namespace.
/// </summary>
public sealed partial class FolderDependencyTests
{
    /// <summary>Each cut edge, and why the direction is the other way.</summary>
    public static TheoryData<string, string> Forbidden() => new()
    {
        { "Api", "Auth" }, // the auth filter answers through ApiResults, not the reverse
        { "Runs", "Engine" }, // the engine executes runs: it uses Runs (transitions, signals), Runs names what it needs as interfaces
        { "Runs", "Api" }, // services return outcomes; endpoints own HTTP
        { "Sandboxes", "Api" },
        { "Repos", "Commands" }, // repo add is a command that uses Repos
        { "Engine", "Sandboxes" }, // the API's sandbox service uses the engine's checkouts, not the reverse
        { "Engine", "Endpoints" },
        { "Configuration", "Engine" }, // options are the bottom layer
    };

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void ForbiddenEdge_IsAbsent(string from, string to)
    {
        var edges = FolderGraph.Of(ServerSources());

        Assert.False(
            edges.TryGetValue((from, to), out var files),
            $"{from} depends on {to} again: {string.Join(", ", files ?? [])}");
    }

    [Fact]
    public void Folders_HaveNoCircle()
    {
        var edges = FolderGraph.Of(ServerSources());

        var cycle = FolderGraph.FindCycle(edges.Keys);

        Assert.True(cycle is null, "a circle between folders: " + string.Join(" → ", cycle ?? []) + "\n" + string.Join("\n", (cycle ?? []).Zip((cycle ?? []).Skip(1)).Select(e => $"{e.First} → {e.Second}: {string.Join(", ", edges[e])}")));
    }

    [Fact]
    public void Graph_SeesEdgesThatExist()
    {
        // The scan is not vacuous: the edges the endpoints and the engine are built on are found.
        var edges = FolderGraph.Of(ServerSources());

        Assert.Contains(("Endpoints", "Runs"), edges.Keys);
        Assert.Contains(("Engine", "Runs"), edges.Keys);
        Assert.Contains(("Sandboxes", "Engine"), edges.Keys);
    }

    [Fact]
    public void Graph_FindsEachKindOfReference()
    {
        List<(string Path, string Text)> files =
        [
            ("Runs/A.cs", "using Mogplex.Server.Engine;\nnamespace Mogplex.Server.Runs;\nclass A {}"),
            ("Api/B.cs", "namespace Mogplex.Server.Api;\nclass B { Auth.Caller c; }"),
            ("Repos/C.cs", "namespace Mogplex.Server.Repos;\nclass C { object o = typeof(Mogplex.Server.Commands.X); }"),
            // Inside Engine, "Sandboxes." is Engine.Sandboxes (the nearer namespace), not the top-level folder.
            ("Engine/D.cs", "namespace Mogplex.Server.Engine;\nclass D { Sandboxes.E e; }"),
            ("Engine/Sandboxes/E.cs", "namespace Mogplex.Server.Engine.Sandboxes;\nclass E {}"),
            ("Sandboxes/F.cs", "namespace Mogplex.Server.Sandboxes;\nclass F {}"),
            ("Engine/G.cs", "namespace Mogplex.Server.Engine;\nclass G { Runs.H h; }"),
            ("Auth/X.cs", "namespace Mogplex.Server.Auth;\nclass X {}"),
            ("Commands/X.cs", "namespace Mogplex.Server.Commands;\nclass X {}"),
            ("Runs/H.cs", "namespace Mogplex.Server.Runs;\nclass H {}"),
        ];

        var edges = FolderGraph.Of(files);

        Assert.Equal(
            [("Api", "Auth"), ("Engine", "Runs"), ("Repos", "Commands"), ("Runs", "Engine")],
            edges.Keys.Order().ToList());
        Assert.Equal(["Engine", "Runs", "Engine"], FolderGraph.FindCycle(edges.Keys));
    }

    private static List<(string Path, string Text)> ServerSources()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "mogplex.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var root = Path.Combine(dir.FullName, "src", "Mogplex.Server");
        return
        [
            .. Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(root, f))
                .Where(f => !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal))
                .Select(f => (f, File.ReadAllText(Path.Combine(root, f)))),
        ];
    }

    private static partial class FolderGraph
    {
        private const string Prefix = "Mogplex.Server";

        /// <summary>(from folder, to folder) → the files that make the edge.</summary>
        public static Dictionary<(string From, string To), List<string>> Of(IReadOnlyList<(string Path, string Text)> files)
        {
            var namespaces = files
                .Select(f => NamespacePattern().Match(f.Text))
                .Where(m => m.Success)
                .Select(m => m.Groups[1].Value)
                .ToHashSet(StringComparer.Ordinal);
            var folders = namespaces
                .Where(n => n.StartsWith(Prefix + ".", StringComparison.Ordinal))
                .Select(n => n[(Prefix.Length + 1)..].Split('.')[0])
                .ToHashSet(StringComparer.Ordinal);
            var edges = new Dictionary<(string, string), List<string>>();
            foreach (var (path, text) in files)
            {
                var ns = NamespacePattern().Match(text) is { Success: true } m ? m.Groups[1].Value : Prefix;
                var from = TopFolder(ns);
                if (from is null)
                {
                    continue;
                }

                var targets = new HashSet<string>(StringComparer.Ordinal);
                foreach (Match full in FullNamePattern().Matches(text))
                {
                    targets.Add(full.Groups[1].Value);
                }

                foreach (Match relative in RelativeNamePattern().Matches(text))
                {
                    var name = relative.Groups[1].Value;
                    if (folders.Contains(name) && Resolve(ns, name, namespaces) is { } resolved && TopFolder(resolved) is { } target)
                    {
                        targets.Add(target);
                    }
                }

                foreach (var to in targets.Where(t => t != from && folders.Contains(t)))
                {
                    if (!edges.TryGetValue((from, to), out var list))
                    {
                        edges[(from, to)] = list = [];
                    }

                    list.Add(path);
                }
            }

            return edges;
        }

        /// <summary>A circle as a path that returns to its start, or null.</summary>
        public static List<string>? FindCycle(IEnumerable<(string From, string To)> edges)
        {
            var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Order(StringComparer.Ordinal).ToList());
            var state = new Dictionary<string, int>(StringComparer.Ordinal);
            var path = new List<string>();
            foreach (var start in next.Keys.Order(StringComparer.Ordinal))
            {
                if (Visit(start) is { } found)
                {
                    return found;
                }
            }

            return null;

            List<string>? Visit(string node)
            {
                if (state.GetValueOrDefault(node) == 1)
                {
                    return [.. path.Skip(path.IndexOf(node)), node];
                }

                if (state.GetValueOrDefault(node) == 2)
                {
                    return null;
                }

                state[node] = 1;
                path.Add(node);
                foreach (var to in next.GetValueOrDefault(node) ?? [])
                {
                    if (Visit(to) is { } found)
                    {
                        return found;
                    }
                }

                path.RemoveAt(path.Count - 1);
                state[node] = 2;
                return null;
            }
        }

        /// <summary>C#'s lookup of a qualified name's first part: the file's namespace, then each enclosing one.</summary>
        private static string? Resolve(string fileNamespace, string name, HashSet<string> namespaces)
        {
            for (var ns = fileNamespace; ; ns = ns[..ns.LastIndexOf('.')])
            {
                if (namespaces.Contains(ns + "." + name))
                {
                    return ns + "." + name;
                }

                if (!ns.Contains('.', StringComparison.Ordinal))
                {
                    return null;
                }
            }
        }

        private static string? TopFolder(string ns) =>
            ns.StartsWith(Prefix + ".", StringComparison.Ordinal) ? ns[(Prefix.Length + 1)..].Split('.')[0] : null;

        [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
        private static partial Regex NamespacePattern();

        [GeneratedRegex(@"\bMogplex\.Server\.(\w+)")]
        private static partial Regex FullNamePattern();

        [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.(?=[A-Z])")]
        private static partial Regex RelativeNamePattern();
    }
}
