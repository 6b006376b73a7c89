using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// The plaintext of a key transfer (docs/wire.md, "Key transfer plaintext"): a kind byte, then the kind's fields.
/// </summary>
public abstract record KeyTransferContent
{
    public abstract KeyTransferKind Kind { get; }

    /// <summary>Encoded plaintext length, kind byte included. Valid only for content that passes validation.</summary>
    public abstract int GetEncodedLength();

    /// <summary>Checks every field can be encoded (lengths, limits, defined values).</summary>
    public abstract WireError Validate();

    private protected abstract void WriteFields(ref WireWriter writer);

    /// <summary>Writes the plaintext; returns its length in <paramref name="written"/>.</summary>
    public WireError TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        var error = Validate();
        if (error != WireError.None)
            return error;
        int length = GetEncodedLength();
        if (destination.Length < length)
            return WireError.DestinationTooSmall;
        var w = new WireWriter(destination[..length]);
        w.U8((byte)Kind);
        WriteFields(ref w);
        written = length;
        return WireError.None;
    }

    /// <summary>Strict parse of a whole plaintext.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> plaintext, out KeyTransferContent? content)
    {
        content = null;
        var r = new WireReader(plaintext);
        if (!r.TryU8(out byte kind))
            return WireError.Truncated;
        var error = (KeyTransferKind)kind switch
        {
            KeyTransferKind.SaInstall => SaInstall.TryReadFields(ref r, out content),
            KeyTransferKind.SaDelete => SaDelete.TryReadFields(ref r, out content),
            KeyTransferKind.ProxyFailure => ProxyFailure.TryReadFields(ref r, out content),
            _ => WireError.UnknownType,
        };
        if (error == WireError.None && r.Remaining != 0)
            error = WireError.TrailingBytes;
        if (error != WireError.None)
            content = null;
        return error;
    }
}

/// <summary>
/// Kind 1: install a new CHILD_SA, or a rekey of the one whose handset inbound SPI is <see cref="Replaces"/>.
/// <see cref="RequestId"/> and <see cref="HandsetNonce"/> echo the proxy request this answers (0 and zeros when
/// the peer initiated).
/// </summary>
public sealed record SaInstall(uint RequestId, Nonce16 HandsetNonce, uint Replaces, SaBundle Sa) : KeyTransferContent
{
    /// <summary>ESP SPIs 1-255 are reserved (RFC 4303 2.1) and 0 means none.</summary>
    public const uint MinSpi = 256;

    public override KeyTransferKind Kind => KeyTransferKind.SaInstall;

    public override int GetEncodedLength() =>
        1 + 4 + Nonce16.Size + 4 + 4 + 4 + 2 + 2 + 2 + 1 + 1 + 1
        + AddressField.Length(Sa.PeerAddress) + 2 + 2 + SaLifetimes.Size
        + 4 + Sa.InboundEncryptionKey.Length + Sa.InboundIntegrityKey.Length + Sa.OutboundEncryptionKey.Length + Sa.OutboundIntegrityKey.Length
        + SelectorBlock.Length(Sa.LocalSelectors) + SelectorBlock.Length(Sa.RemoteSelectors);

    public override WireError Validate()
    {
        if (Sa is null)
            return WireError.BadValue;
        if (Sa.InboundSpi < MinSpi || Sa.OutboundSpi < MinSpi || (Replaces != 0 && Replaces < MinSpi))
            return WireError.BadValue;
        if (Sa.Esn is not (EsnMode.NoEsn or EsnMode.Esn) || Sa.Mode is not (ChildSaMode.Tunnel or ChildSaMode.Transport))
            return WireError.BadValue;
        if (Sa.InboundEncryptionKey.Length > 255 || Sa.InboundIntegrityKey.Length > 255
            || Sa.OutboundEncryptionKey.Length > 255 || Sa.OutboundIntegrityKey.Length > 255)
            return WireError.LimitExceeded;
        var error = AddressField.Validate(Sa.PeerAddress);
        if (error == WireError.None)
            error = SelectorBlock.Validate(Sa.LocalSelectors, SaBundle.MaxTrafficSelectors);
        if (error == WireError.None)
            error = SelectorBlock.Validate(Sa.RemoteSelectors, SaBundle.MaxTrafficSelectors);
        return error;
    }

    private protected override void WriteFields(ref WireWriter w)
    {
        w.U32(RequestId);
        w.Nonce(HandsetNonce);
        w.U32(Replaces);
        w.U32(Sa.InboundSpi);
        w.U32(Sa.OutboundSpi);
        w.U16((ushort)Sa.Encryption);
        w.U16(Sa.KeyBits);
        w.U16((ushort)Sa.Integrity);
        w.U8((byte)Sa.Esn);
        w.U8(Sa.Mode == ChildSaMode.Transport ? ModeTransport : ModeTunnel);
        w.U8(Sa.UdpEncapsulation ? (byte)1 : (byte)0);
        AddressField.Write(ref w, Sa.PeerAddress);
        w.U16(Sa.PeerPort);
        w.U16(Sa.HandsetPort);
        var l = Sa.Lifetimes;
        w.U32(l.SoftSeconds);
        w.U32(l.HardSeconds);
        w.U64(l.SoftBytes);
        w.U64(l.HardBytes);
        w.U64(l.SoftPackets);
        w.U64(l.HardPackets);
        Key(ref w, Sa.InboundEncryptionKey.Span);
        Key(ref w, Sa.InboundIntegrityKey.Span);
        Key(ref w, Sa.OutboundEncryptionKey.Span);
        Key(ref w, Sa.OutboundIntegrityKey.Span);
        SelectorBlock.Write(ref w, Sa.LocalSelectors);
        SelectorBlock.Write(ref w, Sa.RemoteSelectors);
    }

    const byte ModeTunnel = 1;
    const byte ModeTransport = 2;

    static void Key(ref WireWriter w, ReadOnlySpan<byte> key)
    {
        w.U8((byte)key.Length);
        w.Bytes(key);
    }

    static WireError TryKey(ref WireReader r, out byte[] key)
    {
        key = [];
        if (!r.TryU8(out byte length) || !r.TryBytes(length, out var bytes))
            return WireError.Truncated;
        key = bytes.ToArray();
        return WireError.None;
    }

    internal static WireError TryReadFields(ref WireReader r, out KeyTransferContent? content)
    {
        content = null;
        if (!r.TryU32(out uint requestId) || !r.TryNonce(out var nonce) || !r.TryU32(out uint replaces)
            || !r.TryU32(out uint inbound) || !r.TryU32(out uint outbound)
            || !r.TryU16(out ushort encryption) || !r.TryU16(out ushort keyBits) || !r.TryU16(out ushort integrity)
            || !r.TryU8(out byte esn) || !r.TryU8(out byte mode) || !r.TryU8(out byte encapsulation))
            return WireError.Truncated;
        if (inbound < MinSpi || outbound < MinSpi || (replaces != 0 && replaces < MinSpi)
            || esn > 1 || mode is not (ModeTunnel or ModeTransport) || encapsulation > 1)
            return WireError.BadValue;
        var error = AddressField.TryRead(ref r, out var peer);
        if (error != WireError.None)
            return error;
        if (!r.TryU16(out ushort peerPort) || !r.TryU16(out ushort handsetPort)
            || !r.TryU32(out uint softSeconds) || !r.TryU32(out uint hardSeconds)
            || !r.TryU64(out ulong softBytes) || !r.TryU64(out ulong hardBytes)
            || !r.TryU64(out ulong softPackets) || !r.TryU64(out ulong hardPackets))
            return WireError.Truncated;
        if ((error = TryKey(ref r, out var inEnc)) != WireError.None
            || (error = TryKey(ref r, out var inInt)) != WireError.None
            || (error = TryKey(ref r, out var outEnc)) != WireError.None
            || (error = TryKey(ref r, out var outInt)) != WireError.None)
            return error;
        if ((error = SelectorBlock.TryRead(ref r, SaBundle.MaxTrafficSelectors, out var local)) != WireError.None)
            return error;
        if ((error = SelectorBlock.TryRead(ref r, SaBundle.MaxTrafficSelectors, out var remote)) != WireError.None)
            return error;

        content = new SaInstall(requestId, nonce, replaces, new SaBundle
        {
            InboundSpi = inbound,
            OutboundSpi = outbound,
            Encryption = (EncryptionAlgorithm)encryption,
            KeyBits = keyBits,
            Integrity = (IntegrityAlgorithm)integrity,
            Esn = (EsnMode)esn,
            Mode = mode == ModeTransport ? ChildSaMode.Transport : ChildSaMode.Tunnel,
            UdpEncapsulation = encapsulation == 1,
            PeerAddress = peer,
            PeerPort = peerPort,
            HandsetPort = handsetPort,
            Lifetimes = new SaLifetimes(softSeconds, hardSeconds, softBytes, hardBytes, softPackets, hardPackets),
            InboundEncryptionKey = inEnc,
            InboundIntegrityKey = inInt,
            OutboundEncryptionKey = outEnc,
            OutboundIntegrityKey = outInt,
            LocalSelectors = local,
            RemoteSelectors = remote,
        });
        return WireError.None;
    }

    public override string ToString() =>
        $"SaInstall request #{RequestId}{(Replaces == 0 ? "" : $" replaces 0x{Replaces:x8}")} {Sa}";
}

/// <summary>Kind 2: remove the SAs whose handset inbound SPIs are listed.</summary>
public sealed record SaDelete(SaDeleteReason Reason, IReadOnlyList<uint> InboundSpis) : KeyTransferContent
{
    public const int MaxSpis = 255;

    public override KeyTransferKind Kind => KeyTransferKind.SaDelete;

    public override int GetEncodedLength() => 1 + 1 + 2 + 4 * InboundSpis.Count;

    public override WireError Validate()
    {
        if (!Enum.IsDefined(Reason))
            return WireError.BadValue;
        return InboundSpis is null || InboundSpis.Count > MaxSpis ? WireError.LimitExceeded : WireError.None;
    }

    private protected override void WriteFields(ref WireWriter w)
    {
        w.U8((byte)Reason);
        w.U16((ushort)InboundSpis.Count);
        foreach (uint spi in InboundSpis)
            w.U32(spi);
    }

    internal static WireError TryReadFields(ref WireReader r, out KeyTransferContent? content)
    {
        content = null;
        if (!r.TryU8(out byte reason) || !r.TryU16(out ushort count))
            return WireError.Truncated;
        if (!Enum.IsDefined((SaDeleteReason)reason))
            return WireError.BadValue;
        if (count > MaxSpis)
            return WireError.LimitExceeded;
        if (r.Remaining < 4 * count)
            return WireError.Truncated;
        var spis = count == 0 ? [] : new uint[count];
        for (int i = 0; i < count; i++)
            r.TryU32(out spis[i]);
        content = new SaDelete((SaDeleteReason)reason, spis);
        return WireError.None;
    }

    public override string ToString() => $"SaDelete {Reason} [{string.Join(", ", InboundSpis.Select(s => $"0x{s:x8}"))}]";
}

/// <summary>Kind 3: the proxy could not get an SA for request <see cref="RequestId"/>; <see cref="Text"/> is for people.</summary>
public sealed record ProxyFailure(uint RequestId, KeyProxyReason Reason, string Text) : KeyTransferContent
{
    public override KeyTransferKind Kind => KeyTransferKind.ProxyFailure;

    public override int GetEncodedLength() => 1 + 4 + ReasonField.Length(Text);

    public override WireError Validate() => ReasonField.Validate(Reason, Text);

    private protected override void WriteFields(ref WireWriter w)
    {
        w.U32(RequestId);
        ReasonField.Write(ref w, Reason, Text);
    }

    internal static WireError TryReadFields(ref WireReader r, out KeyTransferContent? content)
    {
        content = null;
        if (!r.TryU32(out uint requestId))
            return WireError.Truncated;
        var error = ReasonField.TryRead(ref r, out var reason, out var text);
        if (error != WireError.None)
            return error;
        content = new ProxyFailure(requestId, reason, text);
        return WireError.None;
    }
}
