namespace Mogplex.Server.Engine;

/// <summary>Section <c>Delivery</c>: who authors delivered commits, and how large a delivery may be.</summary>
public sealed class DeliveryOptions
{
    public string AuthorName { get; set; } = "Mogplex";

    public string AuthorEmail { get; set; } = "mogplex@localhost";

    /// <summary>Largest file a delivery may add or change; a larger one fails the run, naming it, and nothing is pushed.</summary>
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Largest sum of the files a delivery adds or changes.</summary>
    public long MaxTotalBytes { get; set; } = 500L * 1024 * 1024;
}
