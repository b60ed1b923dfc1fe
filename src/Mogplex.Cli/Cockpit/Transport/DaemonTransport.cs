using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Client;
using Mogplex.Client.Streaming;
using Mogplex.Contracts.Json;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// A running <c>mogplexd</c> (cockpit.md: <c>MOGPLEX_URL</c>, <c>MOGPLEX_DAEMON_SOCKET</c>,
/// <c>--attach</c>), through the same client as the headless commands: the runs the token can see
/// (<c>GET /runs</c>, looked at again every <see cref="ListInterval"/> for runs started elsewhere;
/// the attached run alone on a server without the list), each followed live from its first event
/// (the client's follower: stream, reconnect with <c>Last-Event-ID</c>, or polling), all into one
/// stream of cockpit events. Commands are the API's routes; a refusal comes back as its message,
/// and a server without the interactive routes says so.
/// </summary>
public sealed class DaemonTransport(MogplexClient client, FollowOptions follow, string? attachRunId, string? onlyRepoId) : ICockpitTransport, ICockpitSignIn, IDiffSource
{
    private TaskCompletionSource _signedIn = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static readonly TimeSpan ListInterval = TimeSpan.FromSeconds(5);

    /// <summary>How many of the newest runs are shown and followed.</summary>
    public const int MaxRuns = 30;

    private readonly Channel<CockpitEvent> _events = Channel.CreateUnbounded<CockpitEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _followed = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _follows = [];
    private readonly string? _onlyRepo = onlyRepoId;

    public string Name => "daemon";

    public async IAsyncEnumerable<CockpitEvent> ReadAsync([EnumeratorCancellation] CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        var lister = ListLoopAsync(linked.Token);
        await foreach (var e in _events.Reader.ReadAllAsync(linked.Token))
        {
            yield return e;
        }

        await lister;
    }

    public async Task<string?> SendAsync(CockpitCommand command, CancellationToken ct)
    {
        try
        {
            switch (command)
            {
                case CockpitCommand.StartRun start:
                    var repo = start.RepoId ?? _onlyRepo ?? await OnlyRepoAsync(ct);
                    if (repo is null)
                    {
                        return "which repository? start mogplex with MOGPLEX_REPO_ID=<id> (mogplex repos list), or select a run of it";
                    }

                    var run = await client.Runs.StartAsync(new StartRunRequest
                    {
                        RepoId = repo,
                        Prompt = start.Prompt,
                        Interactive = true,
                        PermissionMode = start.PermissionMode,
                        Permissions = start.Permissions,
                        Harness = start.Harness,
                        Model = start.Model,
                        // A branch of its own: never the branch someone has checked out, and two runs do not wait for each other.
                        CreateBranch = true,
                        WorkingBranch = WorkingBranch(follow.Time.GetUtcNow()),
                    }, Guid.NewGuid().ToString(), ct);
                    if (run.Id is { } id)
                    {
                        // The start's answer is short: what this start asked for fills the header until the run says more.
                        var summary = JsonlEvents.Summary(run.Json) ?? new RunSummary(id);
                        summary = summary with { PermissionMode = summary.PermissionMode ?? start.PermissionMode ?? "auto", Model = summary.Model ?? start.Model };
                        Publish(new CockpitEvent.RunSnapshot(summary, StartedHere: true));
                        Follow(id);
                    }

                    return null;
                case CockpitCommand.SendMessage m:
                    return await client.Runs.SendMessageAsync(m.RunId, m.Text, m.Steer, key: null, ct) is null ? NotInteractiveHere : null;
                case CockpitCommand.Interrupt i:
                    return await client.Runs.SignalAsync(i.RunId, "interrupt", ct) is null ? NotInteractiveHere : null;
                case CockpitCommand.Finish f:
                    return await client.Runs.SignalAsync(f.RunId, "finish", ct) is null ? NotInteractiveHere : null;
                case CockpitCommand.Cancel c:
                    await client.Runs.CancelAsync(c.RunId, ct);
                    return null;
                case CockpitCommand.Decide d:
                    return await client.Runs.DecideAsync(d.RunId, d.ApprovalId, d.Approve, d.Reason, ct) is null ? NotInteractiveHere : null;
                default:
                    return "not supported";
            }
        }
        catch (ApiException ex)
        {
            return ex.Message;
        }
        catch (ServerUnreachableException ex)
        {
            return ex.Message;
        }
        catch (HttpRequestException ex)
        {
            return "the server could not be reached: " + ex.Message;
        }
    }

    public string Address => client.Address.Display;

    public bool SignedIn => client.HasToken;

    public async Task<string?> SignInAsync(string token, CancellationToken ct)
    {
        var before = client.UseToken(token);
        try
        {
            _ = await client.Runs.ListAsync(_onlyRepo, status: null, limit: 1, cursor: null, ct);
        }
        catch (ApiException ex) when (ex.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            client.UseToken(before);

            return $"the server refused this token ({ex.Message}): nothing was stored";
        }
        catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or JsonException)
        {
            client.UseToken(before);
            return $"the token could not be checked ({ex.Message}): nothing was stored";
        }

        Interlocked.Exchange(ref _signedIn, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return null;
    }

    public void SignOut() => _ = client.UseToken("");

    /// <summary><c>GET /runs/{id}/diff</c> through the client; what stood in the way, as a reason, otherwise.</summary>
    public async Task<RunDiffAnswer> DiffAsync(string runId, CancellationToken ct)
    {
        try
        {
            return await client.Runs.DiffAsync(runId, ct) is { } diff
                ? RunDiffAnswer.From(diff)
                : RunDiffAnswer.Unavailable("this server has no diff route (GET /runs/{id}/diff answered 404)");
        }
        catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or JsonException or InvalidOperationException)
        {
            return RunDiffAnswer.Unavailable(ex.Message);
        }
    }

    /// <summary>What a server without the interactive routes (the hosted service) answers.</summary>
    public const string NotInteractiveHere = "this server has no interactive runs (approvals and follow-ups are not available here)";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] follows;
        lock (_gate)
        {
            follows = [.. _follows];
        }

        try
        {
            await Task.WhenAll(follows);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ApiException or ServerUnreachableException or HttpRequestException)
        {
            // Each follow ends with the transport; what it failed with was shown already.
        }

        _stop.Dispose();
    }

    private async Task ListLoopAsync(CancellationToken ct)
    {
        Publish(new CockpitEvent.HealthChanged(TransportHealth.Connecting, client.Address.Display));
        if (attachRunId is not null)
        {
            await SnapshotAsync(attachRunId, ct);
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                var list = await client.Runs.ListAsync(_onlyRepo, status: null, limit: MaxRuns, cursor: null, ct);
                Publish(new CockpitEvent.HealthChanged(TransportHealth.Nominal));
                if (list is { } runs)
                {
                    // Oldest first, so that the newest ends up on top of the rail.
                    foreach (var run in runs.Runs.Reverse())
                    {
                        if (run.Id is { } id && !IsFollowed(id) && JsonlEvents.Summary(run.Json) is { } summary)
                        {
                            Publish(new CockpitEvent.RunSnapshot(summary));
                            Follow(id);
                        }
                    }
                }
                else if (attachRunId is null)
                {
                    Publish(new CockpitEvent.HealthChanged(TransportHealth.Degraded, "this server cannot list runs: start mogplex with --attach <runId>"));
                    return;
                }
            }
            catch (ApiException ex) when (ex.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // Until a person signs in (/login): then the list is asked for again at once.
                Publish(new CockpitEvent.HealthChanged(TransportHealth.Offline, (client.HasToken ? ex.Message : "not signed in") + ": /login"));
                await Volatile.Read(ref _signedIn).Task.WaitAsync(ct);
                continue;
            }
            catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or JsonException)
            {
                Publish(new CockpitEvent.HealthChanged(TransportHealth.Reconnect, ex.Message));
            }

            await Task.Delay(ListInterval, follow.Time, ct);
        }
    }

    private async Task SnapshotAsync(string runId, CancellationToken ct)
    {
        try
        {
            var run = await client.Runs.GetAsync(runId, ct);
            Publish(new CockpitEvent.RunSnapshot(JsonlEvents.Summary(run.Json) ?? new RunSummary(runId)));
            Follow(runId);
        }
        catch (ApiException ex)
        {
            Publish(new CockpitEvent.HealthChanged(TransportHealth.Degraded, $"run {runId}: {ex.Message}"));
        }
    }

    private bool IsFollowed(string runId)
    {
        lock (_gate)
        {
            return _followed.Contains(runId);
        }
    }

    private void Follow(string runId)
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested || !_followed.Add(runId))
            {
                return;
            }

            _follows.Add(Task.Run(() => FollowAsync(runId, _stop.Token)));
        }
    }

    private async Task FollowAsync(string runId, CancellationToken ct)
    {
        try
        {
            await foreach (var item in client.Runs.FollowAsync(runId, follow, ct))
            {
                switch (item)
                {
                    case FollowItem.RunEventItem e when e.Value.Deserialize(MogplexJsonContext.Default.RunEvent) is { } runEvent:
                        Publish(new CockpitEvent.RunEventArrived(runId, runEvent));
                        break;
                    case FollowItem.Connection c:
                        Publish(new CockpitEvent.HealthChanged(c.Reachable ? TransportHealth.Nominal : TransportHealth.Reconnect));
                        break;
                    case FollowItem.Ended ended:
                        Publish(new CockpitEvent.RunSnapshot(new RunSummary(runId) { Status = ended.Status }));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The cockpit closed.
        }
        catch (Exception ex) when (ex is ApiException or ServerUnreachableException or HttpRequestException or JsonException)
        {
            Publish(new CockpitEvent.HealthChanged(TransportHealth.Degraded, $"run {runId}: {ex.Message}"));
            lock (_gate)
            {
                // Looked at again with the next list.
                _followed.Remove(runId);
            }
        }
    }

    /// <summary>The branch a run started here works on and is delivered to: <c>mogplex/&lt;UTC time&gt;-&lt;4 random hex&gt;</c>.</summary>
    public static string WorkingBranch(DateTimeOffset now) =>
        $"mogplex/{now.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2))}";

    private async Task<string?> OnlyRepoAsync(CancellationToken ct)
    {
        var repos = (await client.Repos.ListAsync(query: null, limit: 2, ct)).Repos.ToList();
        return repos.Count == 1 ? repos[0].Id : null;
    }

    private void Publish(CockpitEvent e) => _events.Writer.TryWrite(e);
}
