using System.Text.Json;

namespace Mogplex.Client.Views;

/// <summary>[beyond] The answer to deciding an approval: <c>{approval}</c>, read lazily; <see cref="Json"/> is the answer unchanged.</summary>
/// <param name="Json">The answer's data as sent.</param>
public readonly record struct DecidedApprovalView(JsonElement Json)
{
    /// <summary>The approval as stored now.</summary>
    public ApprovalView Approval => new(JsonFields.Child(Json, ApprovalView.Names.Envelope));
}
