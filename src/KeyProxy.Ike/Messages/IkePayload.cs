namespace KeyProxy.Ike.Messages;

/// <summary>A payload of an IKE message (RFC 7296 3.2). The generic header's Next Payload and Length are codec business.</summary>
public abstract record IkePayload
{
    public abstract PayloadType Type { get; }

    /// <summary>The generic header's critical bit (RFC 7296 2.5).</summary>
    public bool Critical { get; init; }
}
