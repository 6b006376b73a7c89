using KeyProxy.Ike.Crypto;

namespace KeyProxy.Ike.Messages;

/// <summary>
/// Reassembles one fragmented IKE message from its SKF fragments (RFC 7383 2.6). Each fragment is verified
/// and decrypted with the cipher before it is kept, so forged fragments cannot disturb a reassembly.
/// Memory is bounded by <c>maxFragments</c> and <c>maxTotalBytes</c>.
/// <para>
/// Keep one instance per IKE SA for requests from the peer and one for responses from the peer (their
/// Message IDs are independent), and pass only fragments whose Message ID the exchange logic accepts:
/// a fragment with another Message ID restarts the reassembly. Retransmission handling stays with the
/// caller (RFC 7383 2.6.1: for an already answered request, resend the response only on fragment 1).
/// Not thread-safe.
/// </para>
/// </summary>
public sealed class IkeFragmentReassembler
{
    public const int DefaultMaxFragments = 64;

    public const int DefaultMaxTotalBytes = 64 * 1024;

    readonly int _maxFragments;
    readonly int _maxTotalBytes;
    byte[]?[]? _chunks;
    uint _messageId;
    ushort _total;
    int _received;
    int _bytes;
    PayloadType _firstInner;

    public IkeFragmentReassembler(int maxFragments = DefaultMaxFragments, int maxTotalBytes = DefaultMaxTotalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFragments, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFragments, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotalBytes, 1);
        _maxFragments = maxFragments;
        _maxTotalBytes = maxTotalBytes;
    }

    /// <summary>True while fragments of a message are held.</summary>
    public bool InProgress => _chunks is not null;

    /// <summary>Message ID of the reassembly in progress.</summary>
    public uint MessageId => _messageId;

    public int ReceivedFragments => _received;

    public int TotalFragments => _total;

    /// <summary>
    /// Adds a received SKF message (decoded by <see cref="IkeCodec.TryDecode"/>). Returns
    /// <see cref="IkeFragmentStatus.Complete"/> with the decoded inner payloads once every fragment is in.
    /// RFC 7383 2.6: a verified fragment with a larger Total Fragments restarts the reassembly, one with a
    /// smaller value is ignored, as are duplicates.
    /// </summary>
    public IkeFragmentStatus Add(IkeMessage fragment, ISkCipher cipher, out List<IkePayload>? inner, out IkeParseError error)
    {
        ArgumentNullException.ThrowIfNull(fragment);
        ArgumentNullException.ThrowIfNull(cipher);
        inner = null;
        var payloads = fragment.Payloads;
        if (payloads.Count == 0 || payloads[^1] is not EncryptedFragmentPayload skf)
        {
            error = new(IkeParseErrorKind.NotProtected, 0, "no SKF payload");
            return IkeFragmentStatus.Rejected;
        }

        int number = skf.FragmentNumber;
        int total = skf.TotalFragments;
        if (number == 0 || total == 0 || number > total)
        {
            error = new(IkeParseErrorKind.BadFragmentNumber, skf.BodyOffset - 4, $"fragment {number} of {total}");
            return IkeFragmentStatus.Rejected;
        }

        if (total > _maxFragments)
        {
            error = new(IkeParseErrorKind.LimitExceeded, skf.BodyOffset - 2, $"{total} fragments, limit {_maxFragments}");
            return IkeFragmentStatus.Rejected;
        }

        bool sameMessage = _chunks is not null && fragment.MessageId == _messageId;
        if (sameMessage && (total < _total || (total == _total && _chunks![number - 1] is not null)))
        {
            error = default;
            return IkeFragmentStatus.Ignored;
        }

        var plaintext = IkeCodec.TryOpenBody(fragment.Raw.Span, skf.BodyOffset, cipher);
        if (plaintext is null)
        {
            error = new(IkeParseErrorKind.IntegrityCheckFailed, skf.BodyOffset, $"fragment {number} of {total} did not verify");
            return IkeFragmentStatus.Rejected;
        }

        if (!sameMessage || total > _total)
            Start(fragment.MessageId, (ushort)total);

        if (plaintext.Length > _maxTotalBytes - _bytes)
        {
            Reset();
            error = new(IkeParseErrorKind.LimitExceeded, skf.BodyOffset, $"reassembled message over {_maxTotalBytes} bytes");
            return IkeFragmentStatus.Rejected;
        }

        _chunks![number - 1] = plaintext;
        _received++;
        _bytes += plaintext.Length;
        if (number == 1)
            _firstInner = skf.FirstInnerPayload; // only fragment 1 carries it (RFC 7383 2.5)

        if (_received < _total)
        {
            error = default;
            return IkeFragmentStatus.Incomplete;
        }

        return Complete(out inner, out error);
    }

    /// <summary>Drops any reassembly in progress.</summary>
    public void Reset()
    {
        _chunks = null;
        _messageId = 0;
        _total = 0;
        _received = 0;
        _bytes = 0;
        _firstInner = PayloadType.None;
    }

    void Start(uint messageId, ushort total)
    {
        _chunks = new byte[total][];
        _messageId = messageId;
        _total = total;
        _received = 0;
        _bytes = 0;
        _firstInner = PayloadType.None;
    }

    IkeFragmentStatus Complete(out List<IkePayload>? inner, out IkeParseError error)
    {
        var chain = new byte[_bytes];
        int pos = 0;
        foreach (var chunk in _chunks!)
        {
            chunk!.CopyTo(chain, pos);
            pos += chunk.Length;
        }

        var first = _firstInner;
        Reset();

        var list = new List<IkePayload>();
        if (!IkeCodec.TryDecodePayloads(first, chain, list, out error))
        {
            inner = null;
            return IkeFragmentStatus.Rejected;
        }

        inner = list;
        return IkeFragmentStatus.Complete;
    }
}
