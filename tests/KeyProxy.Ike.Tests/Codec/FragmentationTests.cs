using System.Buffers.Binary;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>RFC 7383: EncodeProtectedFragments and IkeFragmentReassembler.</summary>
public class FragmentationTests
{
    static readonly byte[] CertData = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();

    static IkeMessage Large() => ProtectedMessageTests.AuthRequest(new CertificatePayload(CertificateEncoding.X509Signature, CertData));

    static List<IkeMessage> Fragments(XorTestCipher cipher, int maxSize, IkeMessage? message = null) =>
        IkeCodec.EncodeProtectedFragments(message ?? Large(), cipher, maxSize).Select(d => IkeCodec.Decode(d)).ToList();

    [Fact]
    public void SmallMessageIsOneSkDatagram()
    {
        var cipher = new XorTestCipher(5);
        var message = ProtectedMessageTests.AuthRequest();
        var datagrams = IkeCodec.EncodeProtectedFragments(message, cipher, 1280);
        var single = Assert.Single(datagrams);
        Assert.Equal(IkeCodec.EncodeProtected(message, new XorTestCipher(5)), single);
        Assert.IsType<EncryptedPayload>(IkeCodec.Decode(single).Payloads[0]);
    }

    [Fact]
    public void LargeMessageIsSplitIntoSkfFragments()
    {
        var cipher = new XorTestCipher(5);
        var datagrams = IkeCodec.EncodeProtectedFragments(Large(), cipher, 576);
        Assert.True(datagrams.Count >= 6, $"{datagrams.Count} fragments");
        Assert.Equal(datagrams.Count, cipher.SealCalls);
        for (int i = 0; i < datagrams.Count; i++)
        {
            var bytes = datagrams[i];
            Assert.True(bytes.Length <= 576, $"fragment {i + 1} is {bytes.Length} bytes");
            Assert.Equal((byte)PayloadType.EncryptedFragment, bytes[16]);
            Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20)));
            var skf = Assert.IsType<EncryptedFragmentPayload>(Assert.Single(IkeCodec.Decode(bytes).Payloads));
            Assert.Equal(i + 1, skf.FragmentNumber);
            Assert.Equal(datagrams.Count, skf.TotalFragments);
            Assert.Equal(36, skf.BodyOffset);
            Assert.Equal(i == 0 ? PayloadType.IdentificationInitiator : PayloadType.None, skf.FirstInnerPayload);
        }
    }

    [Fact]
    public void ReassemblesInAnyOrderIgnoringDuplicates()
    {
        var cipher = new XorTestCipher(5);
        var fragments = Fragments(cipher, 576);
        var order = fragments.AsEnumerable().Reverse().ToList();
        order.Insert(2, order[0]);
        order.Insert(4, order[3]);

        var reassembler = new IkeFragmentReassembler();
        List<IkePayload>? inner = null;
        var statuses = new List<IkeFragmentStatus>();
        foreach (var fragment in order)
        {
            var status = reassembler.Add(fragment, cipher, out var result, out var error);
            Assert.NotEqual(IkeFragmentStatus.Rejected, status);
            statuses.Add(status);
            if (status == IkeFragmentStatus.Complete)
                inner = result;
        }

        Assert.Equal(2, statuses.Count(s => s == IkeFragmentStatus.Ignored));
        Assert.Equal(IkeFragmentStatus.Complete, statuses[^1]);
        Assert.NotNull(inner);
        Assert.Equal(IkeCodec.EncodePayloads(Large().Payloads), IkeCodec.EncodePayloads(inner));
        Assert.False(reassembler.InProgress);
    }

    [Fact]
    public void ForgedFragmentIsRejectedAndNotKept()
    {
        var cipher = new XorTestCipher(5);
        var fragments = Fragments(cipher, 576);
        var reassembler = new IkeFragmentReassembler();
        Assert.Equal(IkeFragmentStatus.Incomplete, reassembler.Add(fragments[0], cipher, out _, out _));

        var forged = fragments[1].Raw.ToArray();
        forged[^1] ^= 1;
        Assert.Equal(IkeFragmentStatus.Rejected, reassembler.Add(IkeCodec.Decode(forged), cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.IntegrityCheckFailed, error.Kind);
        Assert.Equal(1, reassembler.ReceivedFragments);

        IkeFragmentStatus last = default;
        foreach (var fragment in fragments.Skip(1))
            last = reassembler.Add(fragment, cipher, out _, out _);
        Assert.Equal(IkeFragmentStatus.Complete, last);
    }

    [Fact]
    public void LargerTotalRestartsSmallerIsIgnored()
    {
        // RFC 7383 2.6: a retransmission fragmented more finely (smaller PMTU) restarts the reassembly.
        var cipher = new XorTestCipher(5);
        var coarse = Fragments(cipher, 1200);
        var fine = Fragments(cipher, 576);
        Assert.True(fine.Count > coarse.Count);

        var reassembler = new IkeFragmentReassembler();
        Assert.Equal(IkeFragmentStatus.Incomplete, reassembler.Add(coarse[0], cipher, out _, out _));
        Assert.Equal(IkeFragmentStatus.Incomplete, reassembler.Add(fine[0], cipher, out _, out _));
        Assert.Equal(fine.Count, reassembler.TotalFragments);
        Assert.Equal(1, reassembler.ReceivedFragments);
        Assert.Equal(IkeFragmentStatus.Ignored, reassembler.Add(coarse[1], cipher, out _, out _));

        IkeFragmentStatus last = default;
        List<IkePayload>? inner = null;
        foreach (var fragment in fine.Skip(1))
            last = reassembler.Add(fragment, cipher, out inner, out _);
        Assert.Equal(IkeFragmentStatus.Complete, last);
        Assert.Equal(IkeCodec.EncodePayloads(Large().Payloads), IkeCodec.EncodePayloads(inner!));
    }

    [Fact]
    public void NewMessageIdRestarts()
    {
        var cipher = new XorTestCipher(5);
        var first = Fragments(cipher, 576);
        var next = Large();
        var second = Fragments(cipher, 576, new IkeMessage
        {
            InitiatorSpi = next.InitiatorSpi, ResponderSpi = next.ResponderSpi, Exchange = next.Exchange,
            Flags = next.Flags, MessageId = 2, Payloads = next.Payloads,
        });

        var reassembler = new IkeFragmentReassembler();
        reassembler.Add(first[0], cipher, out _, out _);
        reassembler.Add(first[1], cipher, out _, out _);
        Assert.Equal(1u, reassembler.MessageId);
        Assert.Equal(IkeFragmentStatus.Incomplete, reassembler.Add(second[0], cipher, out _, out _));
        Assert.Equal(2u, reassembler.MessageId);
        Assert.Equal(1, reassembler.ReceivedFragments);
    }

    [Fact]
    public void FragmentCountLimit()
    {
        var cipher = new XorTestCipher(5);
        var fragments = Fragments(cipher, 300);
        var reassembler = new IkeFragmentReassembler(maxFragments: fragments.Count - 1);
        Assert.Equal(IkeFragmentStatus.Rejected, reassembler.Add(fragments[0], cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.LimitExceeded, error.Kind);
        Assert.False(reassembler.InProgress);
    }

    [Fact]
    public void TotalSizeLimit()
    {
        var cipher = new XorTestCipher(5);
        var fragments = Fragments(cipher, 576);
        var reassembler = new IkeFragmentReassembler(maxTotalBytes: 1000);
        var statuses = fragments.Select(f => reassembler.Add(f, cipher, out _, out _)).ToList();
        Assert.Contains(IkeFragmentStatus.Rejected, statuses);
        Assert.DoesNotContain(IkeFragmentStatus.Complete, statuses);
    }

    [Fact]
    public void NonFragmentIsRejected()
    {
        var cipher = new XorTestCipher(5);
        var message = IkeCodec.Decode(IkeCodec.EncodeProtected(ProtectedMessageTests.AuthRequest(), cipher));
        Assert.Equal(IkeFragmentStatus.Rejected, new IkeFragmentReassembler().Add(message, cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.NotProtected, error.Kind);
    }

    [Fact]
    public void TooSmallDatagramThrows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IkeCodec.EncodeProtectedFragments(Large(), new XorTestCipher(1), 40));
    }
}
