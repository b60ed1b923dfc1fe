namespace Mogplex.Server.Engine;

/// <summary>Section <c>Delivery</c>: how the agent's work is committed.</summary>
public sealed class DeliveryOptions
{
    public string AuthorName { get; set; } = "Mogplex";

    public string AuthorEmail { get; set; } = "mogplex@localhost";
}
