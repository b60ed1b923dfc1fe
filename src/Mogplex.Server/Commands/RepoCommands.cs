using System.CommandLine;
using Mogplex.Server.Repos;

namespace Mogplex.Server.Commands;

/// <summary><c>mogplexd repo add|list|remove</c>.</summary>
public static class RepoCommands
{
    public static Command Create(GlobalOptions global)
    {
        var repo = new Command("repo", "Link git repositories that runs may work on.");

        var source = new Argument<string>("source") { Description = "A git URL or a local path" };
        var name = new Option<string?>("--name") { Description = "owner/repo (default: the source's last two path segments)" };
        var branch = new Option<string?>("--default-branch") { Description = "Default branch (default: detected from the source)" };
        var root = new Option<string?>("--root-directory") { Description = "Subdirectory runs work in (monorepos)" };
        var install = new Option<string?>("--install-command") { Description = "Command run in a new sandbox before the agent (e.g. 'npm ci')" };
        var user = new Option<string?>("--user") { Description = "Owner (default: admin)" };
        var add = new Command("add", "Link a repository and print its id. Example: mogplexd repo add ../acme/api.git --name acme/api") { source, name, branch, root, install, user };
        add.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var owner = await ctx.ResolveUserAsync(parse.GetValue(user), ct);
            var linked = await RepoLinker.LinkAsync(
                ctx,
                new RepoLinker.Request(parse.GetValue(source)!, parse.GetValue(name), parse.GetValue(branch), parse.GetValue(root), parse.GetValue(install), owner.Id),
                ct);
            Console.Out.WriteLine(linked.Id);
            Console.Error.WriteLine($"linked {linked.FullName} (default branch {linked.DefaultBranch}) as {linked.Id}");
        }, ct));

        var list = new Command("list", "List linked repositories. Example: mogplexd repo list");
        list.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var users = (await ctx.Store.Users.ListUsersAsync(ct)).ToDictionary(u => u.Id, u => u.Name);
            var repos = await ctx.Store.Repos.ListReposAsync(new Storage.RepoQuery(null, null, 10_000), ct);
            Table.Write(
                ["ID", "FULL NAME", "DEFAULT BRANCH", "ROOT", "USER", "SOURCE"],
                repos.Select(r => new[] { r.Id, r.FullName, r.DefaultBranch, r.RootDirectory.Length == 0 ? "." : r.RootDirectory, users.GetValueOrDefault(r.UserId, "?"), r.Source }));
        }, ct));

        var id = new Argument<string>("repoId") { Description = "The repo's id (from repo list)" };
        var remove = new Command("remove", "Unlink a repository (its runs stay). Example: mogplexd repo remove <repoId>") { id };
        remove.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var repoId = parse.GetValue(id)!.Trim().ToLowerInvariant();
            if (!Guid.TryParse(repoId, out _) || !await ctx.Store.Repos.RemoveRepoAsync(repoId, ctx.Time.GetUtcNow(), ct))
            {
                throw new OperatorException($"repo {repoId} not found");
            }

            var mirror = Configuration.DataDirectory.MirrorPath(ctx.DataDir, repoId);
            if (Directory.Exists(mirror))
            {
                Directory.Delete(mirror, recursive: true);
            }

            Console.Error.WriteLine($"removed repo {repoId}");
        }, ct));

        repo.Subcommands.Add(add);
        repo.Subcommands.Add(list);
        repo.Subcommands.Add(remove);
        return repo;
    }
}
