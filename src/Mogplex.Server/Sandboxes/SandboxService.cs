using System.Text.Json;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Auth;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Sandboxes;

/// <summary>
/// Sandbox records for the API: create-or-reuse and stop, each returning what happened (the
/// endpoints own HTTP). Preparing the checkout belongs to the run engine (it picks up sandboxes in
/// <c>creating</c>); a stop marks the record stopped and removes this node's checkout
/// (<see cref="SandboxCheckouts"/>).
/// </summary>
public sealed class SandboxService(IMogplexStore store, SandboxCheckouts checkouts, TimeProvider time)
{
    /// <summary>Creates a sandbox for the caller's repo, or returns the active one for the same branches.</summary>
    public async Task<CreateSandboxOutcome> CreateAsync(Caller caller, string repoId, BranchFields fields, CancellationToken ct)
    {
        var repo = await store.Repos.GetRepoAsync(repoId, caller.UserId, ct);
        if (repo is null)
        {
            return new CreateSandboxOutcome.RepoNotFound();
        }

        var (baseBranch, working, root) = fields.Resolve(repo.DefaultBranch, repo.RootDirectory);
        if (fields.CreateBranch && (working is null || working == baseBranch))
        {
            return new CreateSandboxOutcome.Invalid(working is null ? "Invalid working branch" : "Working branch must differ from base branch when createBranch is true");
        }

        var now = time.GetUtcNow();
        var id = Guid.CreateVersion7(now).ToString();
        var candidate = new SandboxRecord
        {
            Id = id,
            SandboxId = "sbx_" + Guid.NewGuid().ToString("N")[..20],
            UserId = caller.UserId,
            RepoId = repo.Id,
            Status = SandboxStatuses.Creating,
            BaseBranch = baseBranch,
            WorkingBranch = working!,
            RootDirectory = root,
            CreatedAt = now,
            LastActiveAt = now,
        };
        var (sandbox, _) = await store.Sandboxes.CreateOrReuseAsync(candidate, SandboxLifecycle.Record(id, "requested", "created", now), ct);
        return new CreateSandboxOutcome.Created(sandbox);
    }

    /// <summary>Stops the caller's sandbox unless a run uses it; this node's checkout goes with it.</summary>
    public async Task<(StopSandboxOutcome Outcome, SandboxRecord? Sandbox)> StopAsync(Caller caller, string id, CancellationToken ct)
    {
        var (outcome, sandbox) = await store.Sandboxes.StopAsync(id, caller.UserId, SandboxLifecycle.Record(id, "stopped", "user_stop", time.GetUtcNow()), ct);
        if (outcome == StopSandboxOutcome.Stopped)
        {
            checkouts.RemoveCheckout(sandbox!);
        }

        return (outcome, sandbox);
    }
}

/// <summary>What <see cref="SandboxService.CreateAsync"/> did.</summary>
public abstract record CreateSandboxOutcome
{
    private CreateSandboxOutcome()
    {
    }

    /// <summary>Made now, or the caller's active sandbox for the same repo and branches.</summary>
    public sealed record Created(SandboxRecord Sandbox) : CreateSandboxOutcome;

    public sealed record RepoNotFound : CreateSandboxOutcome;

    /// <summary>The branches contradict each other (the message is the documented 400 text).</summary>
    public sealed record Invalid(string Message) : CreateSandboxOutcome;
}
