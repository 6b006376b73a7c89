namespace KeyProxy.Ike.Messages;

/// <summary>
/// An IKE message. For a received message <see cref="Raw"/> is the datagram it was decoded from
/// (needed to verify SK payloads and for AUTH's signed octets); for a message being built it is empty.
/// </summary>
public sealed class IkeMessage
{
    public required ulong InitiatorSpi { get; init; }
    public required ulong ResponderSpi { get; init; }
    public required ExchangeType Exchange { get; init; }
    public required IkeFlags Flags { get; init; }
    public required uint MessageId { get; init; }

    /// <summary>Cleartext payloads; for a protected message built for sending, the payloads to put inside SK.</summary>
    public List<IkePayload> Payloads { get; init; } = [];

    public ReadOnlyMemory<byte> Raw { get; init; }

    public bool IsResponse => (Flags & IkeFlags.Response) != 0;

    public bool IsFromInitiator => (Flags & IkeFlags.Initiator) != 0;

    public T? Find<T>() where T : IkePayload
    {
        foreach (var p in Payloads)
            if (p is T t) return t;
        return null;
    }

    public NotifyPayload? FindNotify(NotifyType type)
    {
        foreach (var p in Payloads)
            if (p is NotifyPayload n && n.NotifyType == type) return n;
        return null;
    }
}
