using System.Collections.Concurrent;
using System.Text.Json;
using Mogplex.Contracts;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Api;
using Mogplex.Server.Auth;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Runs;
using Mogplex.Storage;

namespace Mogplex.Server.Sandboxes;

/// <summary>
/// Sandbox records: create-or-reuse and stop. Preparing the checkout belongs to the run engine
/// (it picks up sandboxes in <c>creating</c>); stopping marks the record stopped and removes the
/// checkout when it is on this node. A sandbox lives on the node that prepared it (its record
/// names the node): a stop received by another node is carried out by the owning node's
/// maintenance (<see cref="RemoveUnownedCheckoutsAsync"/>).
/// </summary>
public sealed class SandboxService(IMogplexStore store, ServeSettings settings, TimeProvider time, ILogger<SandboxService> logger)
{
    /// <summary>The wait after the first failed removal of a checkout; it doubles with each failure.</summary>
    public static readonly TimeSpan FirstRemovalRetry = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts to remove a checkout.</summary>
    public static readonly TimeSpan MaxRemovalRetry = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Checkouts whose removal failed: how often, and when the next attempt is due.</summary>
    private readonly ConcurrentDictionary<string, RemovalRetry> _retries = new(StringComparer.Ordinal);

    /// <summary>
    /// The gate of a sandbox's checkout on this node: a run holds it from preparing the checkout
    /// to its end (one run at a time per sandbox), and a checkout is removed only by whoever can
    /// take it at once. A record may move to another node while a run here still works in this
    /// node's checkout (a run for the same branch claimed there); the checkout stays until the run ends.
    /// </summary>
    public SemaphoreSlim Gate(string sandboxRecordId) => _gates.GetOrAdd(sandboxRecordId, _ => new SemaphoreSlim(1, 1));

    public async Task<IResult> CreateAsync(Caller caller, JsonElement body, CancellationToken ct)
    {
        if (!body.TryGetProperty("repoId", out var repoEl) || repoEl.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(repoEl.GetString()))
        {
            return ApiResults.BadRequest("repoId is required");
        }

        var (fields, error) = BranchFields.Parse(body);
        if (fields is null)
        {
            return ApiResults.BadRequest(error!);
        }

        var repo = QueryValues.TryId(repoEl.GetString()!.Trim(), out var repoId) ? await store.Repos.GetRepoAsync(repoId, caller.UserId, ct) : null;
        if (repo is null)
        {
            return ApiResults.NotFound("Repo not found");
        }

        var (baseBranch, working, root) = fields.Resolve(repo.DefaultBranch, repo.RootDirectory);
        if (fields.CreateBranch && (working is null || working == baseBranch))
        {
            return ApiResults.BadRequest(working is null ? "Invalid working branch" : "Working branch must differ from base branch when createBranch is true");
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
        var (sandbox, _) = await store.Sandboxes.CreateOrReuseAsync(candidate, Lifecycle(id, "requested", "created", now), ct);
        return ApiResults.Ok(new SandboxEnvelope(ToContract(sandbox)), StatusCodes.Status202Accepted);
    }

    public async Task<IResult> StopAsync(Caller caller, string id, CancellationToken ct)
    {
        var (outcome, sandbox) = await store.Sandboxes.StopAsync(id, caller.UserId, Lifecycle(id, "stopped", "user_stop", time.GetUtcNow()), ct);
        switch (outcome)
        {
            case StopSandboxOutcome.NotFound:
                return ApiResults.NotFound("Sandbox not found");
            case StopSandboxOutcome.InUse:
                return ApiResults.Error(ErrorCodes.Conflict, "Sandbox is in use by an active run");
            case StopSandboxOutcome.Stopped:
                RemoveCheckout(sandbox!);
                break;
        }

        return ApiResults.Ok(new StopSandboxResult(ToContract(sandbox!), outcome == StopSandboxOutcome.AlreadyStopped));
    }

    /// <summary>Stops a sandbox nobody used for <c>Sandbox:IdleTimeout</c> (skipped while a run uses it).</summary>
    public async Task StopIdleAsync(SandboxRecord sandbox, CancellationToken ct)
    {
        var (outcome, stopped) = await store.Sandboxes.StopAsync(sandbox.Id, null, Lifecycle(sandbox.Id, "stopped", "idle_timeout", time.GetUtcNow()), ct);
        if (outcome == StopSandboxOutcome.Stopped)
        {
            RemoveCheckout(stopped!);
        }
    }

    /// <summary>
    /// Removes checkouts in this node's data folder that no active sandbox of this node owns: stopped
    /// through another node, taken over by another node, or left behind by a crash.
    /// </summary>
    public async Task RemoveUnownedCheckoutsAsync(CancellationToken ct)
    {
        var root = Path.Combine(settings.DataDir, "sandboxes");
        if (!Directory.Exists(root))
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var id = Path.GetFileName(dir);
            if (!Guid.TryParse(id, out _))
            {
                continue;
            }

            seen.Add(id);
            var record = await store.Sandboxes.GetAsync(id, null, ct);
            if (record is null || !SandboxStatuses.IsActive(record.Status) || (record.NodeId is not null && record.NodeId != settings.NodeId))
            {
                RemoveDirectory(dir, id);
            }
        }

        // A checkout that is gone (removed by hand, or reused) needs no more attempts.
        foreach (var id in _retries.Keys.Where(id => !seen.Contains(id)))
        {
            _retries.TryRemove(id, out _);
        }
    }

    /// <summary>How long to wait after the <paramref name="failures"/>-th failed removal: 5 s, doubling, at most 10 min.</summary>
    public static TimeSpan RemovalRetryDelay(int failures)
    {
        var delay = FirstRemovalRetry * Math.Pow(2, Math.Min(failures - 1, 30));
        return delay < MaxRemovalRetry ? delay : MaxRemovalRetry;
    }

    public static SandboxLifecycleRecord Lifecycle(string sandboxId, string type, string? decision, DateTimeOffset at, string? workerRunId = null, string? payloadJson = null) =>
        new(Guid.CreateVersion7(at).ToString(), sandboxId, type, decision, workerRunId, payloadJson, at);

    public static Sandbox ToContract(SandboxRecord s) => new()
    {
        Id = s.Id,
        SandboxId = s.SandboxId,
        RepoId = s.RepoId,
        Status = s.Status,
        BaseBranch = s.BaseBranch,
        WorkingBranch = s.WorkingBranch,
        RootDirectory = s.RootDirectory,
        PreviewUrl = s.PreviewUrl,
        CreatedAt = s.CreatedAt,
        LastActiveAt = s.LastActiveAt,
        Error = s.Error,
    };

    private void RemoveCheckout(SandboxRecord sandbox)
    {
        // Another node's checkout is that node's to remove (its maintenance sees the stopped record).
        if (sandbox.NodeId is not null && sandbox.NodeId != settings.NodeId)
        {
            return;
        }

        if (sandbox.Path is { Length: > 0 } path && Directory.Exists(path))
        {
            RemoveDirectory(path, sandbox.Id);
        }
    }

    /// <summary>
    /// Removes a sandbox's folder without following the links a harness left, after giving back
    /// the permissions it took away (<see cref="SandboxFolders.Delete"/>). When that still fails,
    /// the maintenance tries again later, each time waiting twice as long (up to 10 minutes), and
    /// logs once per attempt: a folder that cannot be removed costs a few lines an hour, not one every pass.
    /// </summary>
    private void RemoveDirectory(string path, string sandboxId)
    {
        var now = time.GetUtcNow();
        _retries.TryGetValue(sandboxId, out var retry);
        if (retry is not null && now < retry.NextAttempt)
        {
            return;
        }

        var gate = Gate(sandboxId);
        if (!gate.Wait(0))
        {
            // A run of this node works in it: a later maintenance pass removes it once the run ended.
            return;
        }

        try
        {
            SandboxFolders.Delete(path);
            if (_retries.TryRemove(sandboxId, out var failed))
            {
                logger.LogInformation("Removed the checkout of sandbox {SandboxId} after {Failures} failed attempts", sandboxId, failed.Failures);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var failures = (retry?.Failures ?? 0) + 1;
            var delay = RemovalRetryDelay(failures);
            _retries[sandboxId] = new RemovalRetry(failures, now + delay);
            logger.LogWarning(ex, "Could not remove the checkout of sandbox {SandboxId} (attempt {Attempt}); next attempt in {Delay}", sandboxId, failures, delay);
        }
        finally
        {
            gate.Release();
        }
    }

    private sealed record RemovalRetry(int Failures, DateTimeOffset NextAttempt);
}
