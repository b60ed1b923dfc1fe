using System.CommandLine;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary><c>mogplexd user add NAME | user list</c>.</summary>
public static class UserCommands
{
    public static Command Create(GlobalOptions global)
    {
        var user = new Command("user", "Manage users (owners of tokens, repos and runs).");

        var nameArg = new Argument<string>("name") { Description = "User name (letters, digits, . _ -)" };
        var add = new Command("add", "Add a user. Example: mogplexd user add alice") { nameArg };
        add.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var name = parse.GetValue(nameArg)!.Trim();
            if (!IsValidName(name))
            {
                throw new OperatorException($"invalid user name '{name}': use 1-64 letters, digits, '.', '_' or '-'");
            }

            await ctx.ResolveUserAsync(null, ct);
            try
            {
                var created = await ctx.Store.Users.AddUserAsync(name, ctx.Time.GetUtcNow(), ct);
                Console.Out.WriteLine(created.Id);
                Console.Error.WriteLine($"added user {created.Name}");
            }
            catch (DuplicateEntryException)
            {
                throw new OperatorException($"user '{name}' already exists");
            }
        }, ct));

        var list = new Command("list", "List users. Example: mogplexd user list");
        list.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            await ctx.ResolveUserAsync(null, ct);
            var rows = (await ctx.Store.Users.ListUsersAsync(ct)).Select(u => new[] { u.Id, u.Name, Table.Time(u.CreatedAt) });
            Table.Write(["ID", "NAME", "CREATED"], rows);
        }, ct));

        user.Subcommands.Add(add);
        user.Subcommands.Add(list);
        return user;
    }

    internal static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
