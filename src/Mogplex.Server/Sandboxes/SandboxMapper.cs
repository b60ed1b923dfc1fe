using Mogplex.Contracts.Sandboxes;
using Mogplex.Storage;

namespace Mogplex.Server.Sandboxes;

/// <summary>Sandbox records as the API shows them.</summary>
public static class SandboxMapper
{
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
}
