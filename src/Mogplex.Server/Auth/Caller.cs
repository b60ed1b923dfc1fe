namespace Mogplex.Server.Auth;

/// <summary>The authenticated caller of an API request.</summary>
public sealed record Caller(string UserId, string TokenId, IReadOnlyList<string> Scopes)
{
    private const string ItemKey = "mogplex.caller";

    public static Caller From(HttpContext context) =>
        context.Items[ItemKey] as Caller ?? throw new InvalidOperationException("The request was not authenticated.");

    public void AttachTo(HttpContext context) => context.Items[ItemKey] = this;
}
