using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Key exchange proxy request (docs/wire.md, "Proxy request"): UDP handset:500 to peer:500 inside the access
/// tunnel, consumed by the edge. IKE header with the reserved SPIs, exchange 240, flags I, Message ID =
/// <see cref="RequestId"/>; one payload of type 128 whose body is version, flags, protocol, handset nonce,
/// TSi (handset side), TSr (peer side) and the handset's ESP suites in order of preference.
/// An empty selector list means "the whole address" of that side; an empty suite list leaves the choice to the network.
/// </summary>
public sealed record ProxyRequest(
    uint RequestId,
    ProxyRequestFlags Flags,
    Nonce16 HandsetNonce,
    IReadOnlyList<TrafficSelector> InitiatorSelectors,
    IReadOnlyList<TrafficSelector> ResponderSelectors,
    IReadOnlyList<EspSuitePreference> Suites)
{
    public const byte BodyVersion = 1;

    /// <summary>The body's protocol field: ESP's security protocol id (RFC 7296 3.3.1), the only one a handset asks for.</summary>
    public const byte EspProtocolId = 3;
    public const int MaxTrafficSelectors = 8;
    public const int MaxSuites = EspSuiteBlock.MaxSuites;

    /// <summary>Bytes before TSi in the body: version, flags, protocol, reserved, handset nonce.</summary>
    const int FixedBodySize = 4 + Nonce16.Size;

    public int GetEncodedLength() =>
        KeyProxyHeader.Size + FixedBodySize + SelectorBlock.Length(InitiatorSelectors) + SelectorBlock.Length(ResponderSelectors)
        + EspSuiteBlock.Length(Suites);

    public WireError TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        var error = SelectorBlock.Validate(InitiatorSelectors, MaxTrafficSelectors);
        if (error == WireError.None)
            error = SelectorBlock.Validate(ResponderSelectors, MaxTrafficSelectors);
        if (error != WireError.None)
            return error;
        if (Suites is null || Suites.Count > MaxSuites)
            return WireError.LimitExceeded;
        if ((Flags & ~ProxyRequestFlags.TransportMode) != 0)
            return WireError.UnknownFlags;
        if ((error = EspSuiteBlock.Validate(Suites)) != WireError.None)
            return error;
        int length = GetEncodedLength();
        if (destination.Length < length)
            return WireError.DestinationTooSmall;

        KeyProxyHeader.Write(destination, KeyProxyHeader.ProxyRequestPayload, KeyProxyHeader.ProxyRequestExchange,
            KeyProxyHeader.InitiatorFlag, RequestId, length);
        var w = new WireWriter(destination[KeyProxyHeader.Size..length]);
        w.U8(BodyVersion);
        w.U8((byte)Flags);
        w.U8(EspProtocolId);
        w.U8(0);
        w.Nonce(HandsetNonce);
        SelectorBlock.Write(ref w, InitiatorSelectors);
        SelectorBlock.Write(ref w, ResponderSelectors);
        EspSuiteBlock.Write(ref w, Suites);

        written = length;
        return WireError.None;
    }

    /// <summary>The encoded message; throws <see cref="InvalidOperationException"/> when a field cannot be encoded.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[GetEncodedLength()];
        var error = TryWrite(bytes, out _);
        return error == WireError.None ? bytes : throw new InvalidOperationException($"proxy request cannot be encoded: {error}");
    }

    /// <summary>Strict parse of a whole UDP payload (headers, body version, reserved fields, counts, trailing bytes).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out ProxyRequest? request)
    {
        request = null;
        var error = KeyProxyHeader.TryRead(message, KeyProxyHeader.ProxyRequestPayload, KeyProxyHeader.ProxyRequestExchange,
            KeyProxyHeader.InitiatorFlag, out uint requestId, out var body);
        if (error != WireError.None)
            return error;

        var r = new WireReader(body);
        if (!r.TryU8(out byte version) || !r.TryU8(out byte flags) || !r.TryU8(out byte protocol))
            return WireError.Truncated;
        if (version != BodyVersion)
            return WireError.BadVersion;
        if ((flags & ~(int)ProxyRequestFlags.TransportMode) != 0)
            return WireError.UnknownFlags;
        if (protocol != EspProtocolId)
            return WireError.BadValue;
        if ((error = r.TryReserved(1)) != WireError.None)
            return error;
        if (!r.TryNonce(out var nonce))
            return WireError.Truncated;
        if ((error = SelectorBlock.TryRead(ref r, MaxTrafficSelectors, out var tsi)) != WireError.None)
            return error;
        if ((error = SelectorBlock.TryRead(ref r, MaxTrafficSelectors, out var tsr)) != WireError.None)
            return error;
        if ((error = EspSuiteBlock.TryRead(ref r, out var suites)) != WireError.None)
            return error;

        if (r.Remaining != 0)
            return WireError.TrailingBytes;
        request = new ProxyRequest(requestId, (ProxyRequestFlags)flags, nonce, tsi, tsr, suites);
        return WireError.None;
    }

    public override string ToString() =>
        $"ProxyRequest #{RequestId} {Flags} TSi {InitiatorSelectors.Count} TSr {ResponderSelectors.Count} suites {Suites.Count}";
}
