using System.CommandLine;
using Mogplex.Server.Auth;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary><c>mogplexd token create|list|revoke</c>. The plaintext is printed once, on creation; only its SHA-256 is stored.</summary>
public static class TokenCommands
{
    public static Command Create(GlobalOptions global)
    {
        var token = new Command("token", "Manage personal access tokens.");

        var name = new Option<string>("--name") { Description = "A name to recognise the token by", Required = true };
        var scopes = new Option<string>("--scopes") { Description = "Comma-separated scopes: read, write", DefaultValueFactory = _ => "read,write" };
        var days = new Option<int?>("--expires-in-days") { Description = "Expire after N days (default: never)" };
        var user = new Option<string?>("--user") { Description = "Owner (default: admin)" };
        var create = new Command("create", "Create a token and print it once. Example: mogplexd token create --name ci --scopes read") { name, scopes, days, user };
        create.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var parsedScopes = Scopes.Parse(parse.GetValue(scopes)) ?? throw new OperatorException("--scopes must be a non-empty list of: read, write");
            var tokenName = parse.GetValue(name)!.Trim();
            if (tokenName.Length is 0 or > 100)
            {
                throw new OperatorException("--name must be 1 to 100 characters");
            }

            var expiresInDays = parse.GetValue(days);
            if (expiresInDays is <= 0 or > 3650)
            {
                throw new OperatorException("--expires-in-days must be between 1 and 3650");
            }

            var owner = await ctx.ResolveUserAsync(parse.GetValue(user), ct);
            var now = ctx.Time.GetUtcNow();
            var plaintext = AccessTokens.Generate();
            var record = new TokenRecord(
                Guid.CreateVersion7(now).ToString(),
                owner.Id,
                tokenName,
                AccessTokens.DisplayPrefix(plaintext),
                parsedScopes,
                now,
                expiresInDays is { } d ? now.AddDays(d) : null,
                null,
                null);
            await ctx.Store.Tokens.AddTokenAsync(record, AccessTokens.Hash(plaintext), ct);
            Console.Out.WriteLine(plaintext);
            Console.Error.WriteLine(
                $"created token {record.Id} '{record.Name}' for {owner.Name} (scopes {string.Join(',', parsedScopes)}, expires {Table.Time(record.ExpiresAt)}); it is shown only this once");
        }, ct));

        var listUser = new Option<string?>("--user") { Description = "Only this user's tokens" };
        var list = new Command("list", "List tokens (never their values). Example: mogplexd token list") { listUser };
        list.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var userName = parse.GetValue(listUser);
            var owner = userName is null ? null : await ctx.ResolveUserAsync(userName, ct);
            var users = (await ctx.Store.Users.ListUsersAsync(ct)).ToDictionary(u => u.Id, u => u.Name);
            var tokens = await ctx.Store.Tokens.ListTokensAsync(owner?.Id, ct);
            Table.Write(
                ["ID", "NAME", "USER", "PREFIX", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "REVOKED"],
                tokens.Select(t => new[]
                {
                    t.Id, t.Name, users.GetValueOrDefault(t.UserId, "?"), t.Prefix + "…", string.Join(',', t.Scopes),
                    Table.Time(t.CreatedAt), Table.Time(t.ExpiresAt), Table.Time(t.LastUsedAt), Table.Time(t.RevokedAt),
                }));
        }, ct));

        var id = new Argument<string>("tokenId") { Description = "The token's id (from token list)" };
        var revoke = new Command("revoke", "Revoke a token; it stops working at once. Example: mogplexd token revoke <tokenId>") { id };
        revoke.SetAction((parse, ct) => global.RunAsync(parse, async ctx =>
        {
            var tokenId = parse.GetValue(id)!.Trim();
            if (!Guid.TryParse(tokenId, out _) || !await ctx.Store.Tokens.RevokeTokenAsync(tokenId.ToLowerInvariant(), ctx.Time.GetUtcNow(), ct))
            {
                throw new OperatorException($"token {tokenId} not found");
            }

            Console.Error.WriteLine($"revoked token {tokenId}");
        }, ct));

        token.Subcommands.Add(create);
        token.Subcommands.Add(list);
        token.Subcommands.Add(revoke);
        return token;
    }
}
