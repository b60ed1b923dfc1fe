using System.Security.Cryptography;
using System.Text.Json;

namespace Mogplex.Server.Runs;

/// <summary>A syntactically valid <c>POST /runs</c> body, trimmed.</summary>
public sealed record StartRunInput(
    string RepoId,
    string Prompt,
    string Harness,
    BranchFields Branches,
    string? ConversationId,
    string? WorkspaceSessionId,
    string? Mode)
{
    /// <summary>[beyond] <c>auto</c> (default) or <c>approval</c>.</summary>
    public string PermissionMode { get; init; } = "auto";

    /// <summary>[beyond] the rules, normalized (<c>{"allow":[…],"ask":[…],"deny":[…]}</c>), or null.</summary>
    public string? PermissionsJson { get; init; }

    /// <summary>[beyond] the model slug, or null for the server's.</summary>
    public string? Model { get; init; }

    /// <summary>[beyond] the run stays open between turns (interactive.md).</summary>
    public bool Interactive { get; init; }

    /// <summary>The harnesses that keep a session a person can talk to; <c>exec</c> runs one script.</summary>
    public static readonly IReadOnlySet<string> SessionHarnesses = new HashSet<string>(StringComparer.Ordinal) { "codex", "claude-code" };

    public const int MaxModelLength = 100;

    public const int MaxPromptLength = Mogplex.Contracts.ApiLimits.MaxPromptLength;
    public const int MaxOptionalLength = 1_000;

    /// <summary>Validates in the documented order; the error is the documented 400 message.</summary>
    public static (StartRunInput? Input, string? Error) Parse(JsonElement body, IReadOnlySet<string> harnesses)
    {
        if (!body.TryGetProperty("repoId", out var repo) || repo.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(repo.GetString()))
        {
            return (null, "repoId is required");
        }

        if (!body.TryGetProperty("prompt", out var p) || p.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(p.GetString()))
        {
            return (null, "Prompt is required");
        }

        // Length in UTF-16 code units, as the hosted service counts it.
        var prompt = p.GetString()!.Trim();
        if (prompt.Length > MaxPromptLength)
        {
            return (null, "Prompt is too long");
        }

        var harness = "codex";
        if (body.TryGetProperty("harness", out var h) && h.ValueKind != JsonValueKind.Null)
        {
            if (h.ValueKind != JsonValueKind.String || !harnesses.Contains(h.GetString()!.Trim()))
            {
                return (null, "Invalid harness");
            }

            harness = h.GetString()!.Trim();
        }

        var (branches, branchError) = BranchFields.Parse(body);
        if (branches is null)
        {
            return (null, branchError);
        }

        var optional = new string?[3];
        string[] names = ["conversationId", "workspaceSessionId", "mode"];
        for (var i = 0; i < names.Length; i++)
        {
            if (!body.TryGetProperty(names[i], out var v) || v.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (v.ValueKind != JsonValueKind.String || v.GetString()!.Trim().Length > MaxOptionalLength)
            {
                return (null, $"Invalid {names[i]}");
            }

            optional[i] = v.GetString()!.Trim();
        }

        var permissionMode = "auto";
        if (body.TryGetProperty("permissionMode", out var pm) && pm.ValueKind != JsonValueKind.Null)
        {
            if (pm.ValueKind != JsonValueKind.String || pm.GetString()!.Trim() is not ("auto" or "approval"))
            {
                return (null, "permissionMode must be auto or approval");
            }

            permissionMode = pm.GetString()!.Trim();
        }

        string? permissionsJson = null;
        if (body.TryGetProperty("permissions", out var perms) && perms.ValueKind != JsonValueKind.Null)
        {
            var (rules, rulesError) = Permissions.RunPermissions.Parse(perms);
            if (rules is null)
            {
                return (null, rulesError);
            }

            permissionsJson = Permissions.RunPermissions.ToJson(rules);
        }

        string? model = null;
        if (body.TryGetProperty("model", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            var text = m.ValueKind == JsonValueKind.String ? m.GetString()!.Trim() : "";
            // A slug: it reaches a harness's command line, so it never looks like an option.
            if (text.Length is 0 or > MaxModelLength || !char.IsAsciiLetterOrDigit(text[0]) || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/'))
            {
                return (null, "Invalid model");
            }

            model = text;
        }

        var interactive = false;
        if (body.TryGetProperty("interactive", out var ia) && ia.ValueKind != JsonValueKind.Null)
        {
            if (ia.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (null, "interactive must be true or false");
            }

            interactive = ia.GetBoolean();
            if (interactive && !SessionHarnesses.Contains(harness))
            {
                return (null, $"interactive needs a harness with conversations ({string.Join(", ", SessionHarnesses.Order(StringComparer.Ordinal))})");
            }
        }

        return (new StartRunInput(repo.GetString()!.Trim(), prompt, harness, branches, optional[0], optional[1], optional[2])
        {
            Interactive = interactive,
            PermissionMode = permissionMode,
            PermissionsJson = permissionsJson,
            Model = model,
        }, null);
    }

    /// <summary>
    /// The idempotency hash: SHA-256 of every field after trimming and defaults, keys sorted. The
    /// generated working branch is not part of it (it depends on the day), so a replay on another
    /// day still matches and returns the stored branch.
    /// </summary>
    public string Hash(string baseBranch, string? workingBranch, string root)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("baseBranch", baseBranch);
            w.WriteString("conversationId", ConversationId);
            w.WriteBoolean("createBranch", Branches.CreateBranch);
            w.WriteString("harness", Harness);
            if (Interactive)
            {
                w.WriteBoolean("interactive", true);
            }

            w.WriteString("mode", Mode);
            // [beyond] fields only when set: a request without them hashes as before.
            if (Model is not null)
            {
                w.WriteString("model", Model);
            }

            if (PermissionMode != "auto")
            {
                w.WriteString("permissionMode", PermissionMode);
            }

            if (PermissionsJson is not null)
            {
                w.WriteString("permissions", PermissionsJson);
            }

            w.WriteString("prompt", Prompt);
            w.WriteString("repoId", RepoId);
            w.WriteString("rootDirectory", root);
            w.WriteString("workingBranch", workingBranch);
            w.WriteString("workspaceSessionId", WorkspaceSessionId);
            w.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(stream.ToArray()));
    }
}
