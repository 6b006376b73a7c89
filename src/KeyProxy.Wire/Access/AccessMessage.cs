using System.Net;

namespace KeyProxy.Wire.Access;

/// <summary>
/// One access-link datagram (docs/wire.md, "Access link"): the 8-byte header then a type-specific body.
/// This is the general, allocating path for the rare control messages; Data has an allocation-free path in
/// <see cref="AccessData"/>. Attach messages before the accept carry tunnel id 0, all others a non-zero id.
/// </summary>
public abstract record AccessMessage
{
    public uint TunnelId { get; init; }

    public abstract AccessMessageType Type { get; }

    /// <summary>Whether this type travels with tunnel id 0 (attach before accept) or with the tunnel's id.</summary>
    public static bool UsesTunnelId(AccessMessageType type) =>
        type is not (AccessMessageType.AttachRequest or AccessMessageType.AttachChallenge
            or AccessMessageType.AttachResponse or AccessMessageType.AttachReject);

    private protected abstract int BodyLength { get; }

    private protected abstract WireError ValidateBody();

    private protected abstract void WriteBody(ref WireWriter writer);

    public int GetEncodedLength() => AccessHeader.Size + BodyLength;

    public WireError Validate()
    {
        if (UsesTunnelId(Type) != (TunnelId != 0))
            return WireError.BadValue;
        return ValidateBody();
    }

    public WireError TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        var error = Validate();
        if (error != WireError.None)
            return error;
        int length = GetEncodedLength();
        if (destination.Length < length)
            return WireError.DestinationTooSmall;
        new AccessHeader(Type, TunnelId).WriteTo(destination);
        var w = new WireWriter(destination[AccessHeader.Size..length]);
        WriteBody(ref w);
        written = length;
        return WireError.None;
    }

    /// <summary>The encoded datagram; throws <see cref="InvalidOperationException"/> when a field cannot be encoded.</summary>
    public byte[] ToArray()
    {
        var error = Validate();
        if (error != WireError.None)
            throw new InvalidOperationException($"{Type} cannot be encoded: {error}");
        var bytes = new byte[GetEncodedLength()];
        TryWrite(bytes, out _);
        return bytes;
    }

    /// <summary>Strict parse of a whole access-link datagram.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> datagram, out AccessMessage? message)
    {
        message = null;
        var error = AccessHeader.TryRead(datagram, out var header);
        if (error != WireError.None)
            return error;
        if (UsesTunnelId(header.Type) != (header.TunnelId != 0))
            return WireError.BadValue;

        var r = new WireReader(datagram[AccessHeader.Size..]);
        AccessMessage? result = null;
        error = header.Type switch
        {
            AccessMessageType.AttachRequest => AttachRequest.TryReadBody(ref r, out result),
            AccessMessageType.AttachChallenge => AttachChallenge.TryReadBody(ref r, out result),
            AccessMessageType.AttachResponse => AttachResponse.TryReadBody(ref r, out result),
            AccessMessageType.AttachAccept => AttachAccept.TryReadBody(ref r, out result),
            AccessMessageType.AttachReject => AttachReject.TryReadBody(ref r, out result),
            AccessMessageType.Detach => Detach.TryReadBody(ref r, out result),
            AccessMessageType.DetachAck => DetachAck.TryReadBody(ref r, out result),
            AccessMessageType.EchoRequest => EchoRequest.TryReadBody(ref r, out result),
            AccessMessageType.EchoReply => EchoReply.TryReadBody(ref r, out result),
            AccessMessageType.Data => DataPacket.TryReadBody(ref r, out result),
            AccessMessageType.ProxyRefusal => ProxyRefusal.TryReadBody(ref r, out result),
            _ => WireError.UnknownType,
        };
        if (error == WireError.None && r.Remaining != 0)
            error = WireError.TrailingBytes;
        if (error != WireError.None)
            return error;
        message = result! with { TunnelId = header.TunnelId };
        return WireError.None;
    }

    private protected static WireError TryProof(ref WireReader r, out byte[] proof)
    {
        proof = [];
        if (!r.TryBytes(AttachProofs.Size, out var bytes))
            return WireError.Truncated;
        proof = bytes.ToArray();
        return WireError.None;
    }

    private protected static WireError ValidateProof(ReadOnlyMemory<byte> proof) =>
        proof.Length == AttachProofs.Size ? WireError.None : WireError.BadValue;
}

/// <summary>0x01, handset to edge: who I am and my nonce.</summary>
public sealed record AttachRequest(SubscriberIdentity Identity, Nonce16 HandsetNonce) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.AttachRequest;

    private protected override int BodyLength => Identity.GetEncodedLength() + Nonce16.Size;

    private protected override WireError ValidateBody() => Identity?.Validate() ?? WireError.BadValue;

    private protected override void WriteBody(ref WireWriter w)
    {
        Identity.Write(ref w);
        w.Nonce(HandsetNonce);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        var error = SubscriberIdentity.TryRead(ref r, out var identity);
        if (error != WireError.None)
            return error;
        if (!r.TryNonce(out var nonce))
            return WireError.Truncated;
        message = new AttachRequest(identity!, nonce);
        return WireError.None;
    }
}

/// <summary>0x02, edge to handset: the handset nonce echoed and the edge's nonce.</summary>
public sealed record AttachChallenge(Nonce16 HandsetNonce, Nonce16 EdgeNonce) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.AttachChallenge;

    private protected override int BodyLength => 2 * Nonce16.Size;

    private protected override WireError ValidateBody() => WireError.None;

    private protected override void WriteBody(ref WireWriter w)
    {
        w.Nonce(HandsetNonce);
        w.Nonce(EdgeNonce);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (!r.TryNonce(out var handset) || !r.TryNonce(out var edge))
            return WireError.Truncated;
        message = new AttachChallenge(handset, edge);
        return WireError.None;
    }
}

/// <summary>
/// 0x03, handset to edge: identity, both nonces and the attach proof (<see cref="AttachProofs.ComputeAttachProof"/>),
/// then, optionally, the ESP suites the handset can run (<see cref="Suites"/>; absent when empty): the network
/// negotiates only those for it, in either role.
/// </summary>
public sealed record AttachResponse(SubscriberIdentity Identity, Nonce16 HandsetNonce, Nonce16 EdgeNonce, ReadOnlyMemory<byte> Proof) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.AttachResponse;

    /// <summary>The handset's ESP suites, most preferred first; empty: not said (the profile's suites apply).</summary>
    public IReadOnlyList<Proxy.EspSuitePreference> Suites { get; init; } = [];

    private protected override int BodyLength =>
        Identity.GetEncodedLength() + 2 * Nonce16.Size + AttachProofs.Size + (Suites.Count == 0 ? 0 : Proxy.EspSuiteBlock.Length(Suites));

    private protected override WireError ValidateBody()
    {
        var error = Identity?.Validate() ?? WireError.BadValue;
        if (error == WireError.None) error = Proxy.EspSuiteBlock.Validate(Suites);
        return error != WireError.None ? error : ValidateProof(Proof);
    }

    private protected override void WriteBody(ref WireWriter w)
    {
        Identity.Write(ref w);
        w.Nonce(HandsetNonce);
        w.Nonce(EdgeNonce);
        w.Bytes(Proof.Span);
        if (Suites.Count > 0) Proxy.EspSuiteBlock.Write(ref w, Suites);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        var error = SubscriberIdentity.TryRead(ref r, out var identity);
        if (error != WireError.None)
            return error;
        if (!r.TryNonce(out var handset) || !r.TryNonce(out var edge))
            return WireError.Truncated;
        if ((error = TryProof(ref r, out var proof)) != WireError.None)
            return error;
        IReadOnlyList<Proxy.EspSuitePreference> suites = [];
        if (r.Remaining > 0)
        {
            if ((error = Proxy.EspSuiteBlock.TryRead(ref r, out suites)) != WireError.None)
                return error;
            // No suites are written as no block; a block that lists none would be a second encoding.
            if (suites.Count == 0)
                return WireError.BadValue;
        }
        message = new AttachResponse(identity!, handset, edge, proof) { Suites = suites };
        return WireError.None;
    }

    public override string ToString() => $"AttachResponse {{ Identity = {Identity}, HandsetNonce = {HandsetNonce}, EdgeNonce = {EdgeNonce}, Suites = {Suites.Count} }}";
}

/// <summary>0x04, edge to handset: the tunnel id (header), the handset's address and the network proof.</summary>
public sealed record AttachAccept(IPAddress HandsetAddress, ReadOnlyMemory<byte> NetworkProof) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.AttachAccept;

    private protected override int BodyLength => AddressField.Length(HandsetAddress) + AttachProofs.Size;

    private protected override WireError ValidateBody()
    {
        var error = AddressField.Validate(HandsetAddress);
        return error != WireError.None ? error : ValidateProof(NetworkProof);
    }

    private protected override void WriteBody(ref WireWriter w)
    {
        AddressField.Write(ref w, HandsetAddress);
        w.Bytes(NetworkProof.Span);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        var error = AddressField.TryRead(ref r, out var address);
        if (error != WireError.None)
            return error;
        if ((error = TryProof(ref r, out var proof)) != WireError.None)
            return error;
        message = new AttachAccept(address, proof);
        return WireError.None;
    }

    public override string ToString() => $"AttachAccept {{ TunnelId = {TunnelId}, HandsetAddress = {HandsetAddress} }}";
}

/// <summary>0x05, edge to handset: attach refused.</summary>
public sealed record AttachReject(Nonce16 HandsetNonce, KeyProxyReason Reason, string Text) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.AttachReject;

    private protected override int BodyLength => Nonce16.Size + ReasonField.Length(Text);

    private protected override WireError ValidateBody() => ReasonField.Validate(Reason, Text);

    private protected override void WriteBody(ref WireWriter w)
    {
        w.Nonce(HandsetNonce);
        ReasonField.Write(ref w, Reason, Text);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (!r.TryNonce(out var nonce))
            return WireError.Truncated;
        var error = ReasonField.TryRead(ref r, out var reason, out var text);
        if (error != WireError.None)
            return error;
        message = new AttachReject(nonce, reason, text);
        return WireError.None;
    }
}

/// <summary>0x06, handset to edge: leave the tunnel; proof under the delivery key (<see cref="AttachProofs.ComputeDetachProof"/>).</summary>
public sealed record Detach(ReadOnlyMemory<byte> Proof) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.Detach;

    private protected override int BodyLength => AttachProofs.Size;

    private protected override WireError ValidateBody() => ValidateProof(Proof);

    private protected override void WriteBody(ref WireWriter w) => w.Bytes(Proof.Span);

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        var error = TryProof(ref r, out var proof);
        if (error == WireError.None)
            message = new Detach(proof);
        return error;
    }

    public override string ToString() => $"Detach {{ TunnelId = {TunnelId} }}";
}

/// <summary>0x07, edge to handset: the tunnel is gone. Empty body.</summary>
public sealed record DetachAck : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.DetachAck;

    private protected override int BodyLength => 0;

    private protected override WireError ValidateBody() => WireError.None;

    private protected override void WriteBody(ref WireWriter w)
    {
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = new DetachAck();
        return WireError.None;
    }
}

/// <summary>0x08, either direction: liveness probe of the access link; the reply echoes <see cref="Opaque"/>.</summary>
public sealed record EchoRequest(uint Opaque) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.EchoRequest;

    private protected override int BodyLength => 4;

    private protected override WireError ValidateBody() => WireError.None;

    private protected override void WriteBody(ref WireWriter w) => w.U32(Opaque);

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (!r.TryU32(out uint opaque))
            return WireError.Truncated;
        message = new EchoRequest(opaque);
        return WireError.None;
    }
}

/// <summary>0x09: answer to <see cref="EchoRequest"/>.</summary>
public sealed record EchoReply(uint Opaque) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.EchoReply;

    private protected override int BodyLength => 4;

    private protected override WireError ValidateBody() => WireError.None;

    private protected override void WriteBody(ref WireWriter w) => w.U32(Opaque);

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (!r.TryU32(out uint opaque))
            return WireError.Truncated;
        message = new EchoReply(opaque);
        return WireError.None;
    }
}

/// <summary>0x10: one inner IP packet (copied; the per-packet path is <see cref="AccessData"/>).</summary>
public sealed record DataPacket(ReadOnlyMemory<byte> Packet) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.Data;

    private protected override int BodyLength => Packet.Length;

    private protected override WireError ValidateBody() => Packet.IsEmpty ? WireError.BadValue : WireError.None;

    private protected override void WriteBody(ref WireWriter w) => w.Bytes(Packet.Span);

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (r.Remaining == 0)
            return WireError.Truncated;
        r.TryBytes(r.Remaining, out var packet);
        message = new DataPacket(packet.ToArray());
        return WireError.None;
    }

    public override string ToString() => $"DataPacket {{ TunnelId = {TunnelId}, Length = {Packet.Length} }}";
}

/// <summary>0x11, edge to handset: the edge refused proxy request <see cref="RequestId"/> towards <see cref="PeerAddress"/>.</summary>
public sealed record ProxyRefusal(uint RequestId, IPAddress PeerAddress, KeyProxyReason Reason, string Text) : AccessMessage
{
    public override AccessMessageType Type => AccessMessageType.ProxyRefusal;

    private protected override int BodyLength => 4 + AddressField.Length(PeerAddress) + ReasonField.Length(Text);

    private protected override WireError ValidateBody()
    {
        var error = AddressField.Validate(PeerAddress);
        if (error != WireError.None)
            return error;
        return ReasonField.Validate(Reason, Text);
    }

    private protected override void WriteBody(ref WireWriter w)
    {
        w.U32(RequestId);
        AddressField.Write(ref w, PeerAddress);
        ReasonField.Write(ref w, Reason, Text);
    }

    internal static WireError TryReadBody(ref WireReader r, out AccessMessage? message)
    {
        message = null;
        if (!r.TryU32(out uint requestId))
            return WireError.Truncated;
        var error = AddressField.TryRead(ref r, out var peer);
        if (error != WireError.None)
            return error;
        if ((error = ReasonField.TryRead(ref r, out var reason, out var text)) != WireError.None)
            return error;
        message = new ProxyRefusal(requestId, peer, reason, text);
        return WireError.None;
    }
}
