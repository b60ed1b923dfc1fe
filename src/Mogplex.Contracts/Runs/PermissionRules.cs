using System.Text.Json.Serialization;

namespace Mogplex.Contracts.Runs;

/// <summary>[beyond] A run's permission rules, each <c>kind:glob[@source]</c>; a list left null is not written.</summary>
public sealed record PermissionRules
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Allow { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Ask { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Deny { get; init; }
}
