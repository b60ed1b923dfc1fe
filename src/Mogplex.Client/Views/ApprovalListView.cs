using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] <c>GET /runs/{id}/approvals</c>: <c>{approvals}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct ApprovalListView(JsonElement Json)
{
    /// <summary>
    /// The approvals (none when the field is missing or not an array).
    /// </summary>
    /// <exception cref="InvalidOperationException">The answer is not a JSON object.</exception>
    public IReadOnlyList<ApprovalView> Approvals => [.. JsonFields.ItemsOfObject(Json, Names.Approvals).Select(a => new ApprovalView(a))];

    /// <summary>The field names of the approval list on the wire.</summary>
    public static class Names
    {
        public const string Approvals = "approvals";
    }
}
