using System.Text.Json;

namespace Mogplex.Server.Runs.Permissions;

/// <summary>A run's <c>permissionMode</c> and <c>permissions</c>, parsed and validated (POST /runs) and rebuilt from the stored JSON (the engine).</summary>
public static class RunPermissions
{
    public const int MaxRules = 200;

    /// <summary>The stored rules as a resolver; rules that no longer parse are dropped (they were validated when the run was accepted).</summary>
    public static PermissionResolver Resolver(string permissionMode, string? permissionsJson)
    {
        var mode = permissionMode == "approval" ? PermissionMode.Approval : PermissionMode.Auto;
        if (permissionsJson is null)
        {
            return new PermissionResolver(mode, []);
        }

        using var doc = JsonDocument.Parse(permissionsJson);
        var (rules, _) = Parse(doc.RootElement);
        return new PermissionResolver(mode, rules ?? []);
    }

    /// <summary>The rules as stored: each list in order, every rule trimmed.</summary>
    public static string ToJson(IReadOnlyList<PermissionRule> rules)
    {
        var o = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, verdict) in new[] { ("allow", Verdict.Allow), ("ask", Verdict.Ask), ("deny", Verdict.Deny) })
        {
            o[name] = new System.Text.Json.Nodes.JsonArray([.. rules.Where(r => r.Verdict == verdict).Select(r => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(r.Text))]);
        }

        return o.ToJsonString();
    }

    /// <summary><c>{"allow":[…],"ask":[…],"deny":[…]}</c> → rules, or the documented 400 message.</summary>
    public static (IReadOnlyList<PermissionRule>? Rules, string? Error) Parse(JsonElement permissions)
    {
        if (permissions.ValueKind != JsonValueKind.Object)
        {
            return (null, "permissions must be an object with allow, ask and deny lists");
        }

        var rules = new List<PermissionRule>();
        foreach (var property in permissions.EnumerateObject())
        {
            Verdict verdict;
            switch (property.Name)
            {
                case "allow":
                    verdict = Verdict.Allow;
                    break;
                case "ask":
                    verdict = Verdict.Ask;
                    break;
                case "deny":
                    verdict = Verdict.Deny;
                    break;
                default:
                    return (null, $"permissions has an unknown list '{property.Name}' (allow, ask, deny)");
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                return (null, $"permissions.{property.Name} must be a list of rules");
            }

            foreach (var item in property.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    return (null, $"permissions.{property.Name} must hold strings");
                }

                var (rule, error) = PermissionRule.Parse(verdict, item.GetString());
                if (rule is null)
                {
                    return (null, error);
                }

                rules.Add(rule);
                if (rules.Count > MaxRules)
                {
                    return (null, $"permissions holds more than {MaxRules} rules");
                }
            }
        }

        return (rules, null);
    }
}
