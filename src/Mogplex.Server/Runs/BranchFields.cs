using System.Text.Json;
using Mogplex.Server.Validation;

namespace Mogplex.Server.Runs;

/// <summary>
/// The branch and root fields shared by <c>POST /runs</c> and <c>POST /sandboxes</c>, validated
/// syntactically. Defaults that need the repo (its default branch, its root) are applied later.
/// </summary>
public sealed record BranchFields(string? BaseBranch, string? WorkingBranch, bool CreateBranch, bool RootGiven, string RootDirectory)
{
    /// <summary>Parses the fields; returns the documented 400 message on the first bad one.</summary>
    public static (BranchFields? Fields, string? Error) Parse(JsonElement body)
    {
        if (!TryBranch(body, "baseBranch", out var baseBranch))
        {
            return (null, "Invalid base branch");
        }

        if (!TryBranch(body, "workingBranch", out var workingBranch))
        {
            return (null, "Invalid working branch");
        }

        // createBranch is true only for JSON true; any other value means false.
        var createBranch = body.TryGetProperty("createBranch", out var cb) && cb.ValueKind == JsonValueKind.True;

        // rootDirectory omitted → the repo's root directory; null → the repository root. Trimmed
        // like every other body field (api.md: the idempotency hash is over fields "after trimming"),
        // so " apps " and "apps" are the same request and the same directory.
        var rootGiven = body.TryGetProperty("rootDirectory", out var rd);
        var root = "";
        if (rootGiven && rd.ValueKind != JsonValueKind.Null &&
            (rd.ValueKind != JsonValueKind.String || !Validation.RootDirectory.TryNormalize(rd.GetString()!.Trim(), out root)))
        {
            return (null, "Invalid root directory");
        }

        return (new BranchFields(baseBranch, workingBranch, createBranch, rootGiven, root), null);
    }

    /// <summary>Resolves the base, working branch and root against the repo's defaults.</summary>
    public (string Base, string? Working, string Root) Resolve(string repoDefaultBranch, string repoRoot)
    {
        var baseBranch = BaseBranch ?? (string.IsNullOrEmpty(repoDefaultBranch) ? "main" : repoDefaultBranch);
        var working = WorkingBranch ?? (CreateBranch ? null : baseBranch);
        return (baseBranch, working, RootGiven ? RootDirectory : repoRoot);
    }

    private static bool TryBranch(JsonElement body, string name, out string? value)
    {
        value = null;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        value = element.GetString()!.Trim();
        return BranchName.IsValid(value);
    }
}
