using System.Buffers.Binary;
using CsCheck;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>CsCheck properties: round trips of random valid messages, and robustness against mutated input.</summary>
public class CodecPropertyTests
{
    [Fact]
    public void EncodeDecodeEncodeIsIdentity()
    {
        IkeGen.Message().Sample(message =>
        {
            var bytes = IkeCodec.Encode(message);
            Assert.True(IkeCodec.TryDecode(bytes, out var decoded, out var error), error.ToString());
            Assert.Equal(message.Payloads.Count, decoded.Payloads.Count);
            Assert.Equal(bytes, IkeCodec.Encode(decoded));
        }, iter: 2000);
    }

    [Fact]
    public void ProtectedRoundTrip()
    {
        var cipher = new XorTestCipher(0x42);
        IkeGen.Message().Sample(message =>
        {
            var bytes = IkeCodec.EncodeProtected(message, cipher);
            Assert.True(IkeCodec.TryDecode(bytes, out var received, out var error), error.ToString());
            Assert.True(IkeCodec.TryOpen(received, cipher, out var inner, out error), error.ToString());
            Assert.Equal(IkeCodec.EncodePayloads(message.Payloads), IkeCodec.EncodePayloads(inner));
        }, iter: 1000, threads: 1);
    }

    [Fact]
    public void FragmentedRoundTripInShuffledOrder()
    {
        Gen.Select(IkeGen.Message(12), Gen.Int[120, 1500], Gen.Int)
            .Sample((message, maxSize, seed) =>
            {
                var cipher = new XorTestCipher(0x17);
                var datagrams = IkeCodec.EncodeProtectedFragments(message, cipher, maxSize);
                Assert.All(datagrams, d => Assert.True(d.Length <= maxSize));
                var order = datagrams.Select(d => IkeCodec.Decode(d)).ToArray();
                new Random(seed).Shuffle(order);

                List<IkePayload>? inner = null;
                if (order.Length == 1 && order[0].Payloads[0] is EncryptedPayload)
                {
                    Assert.True(IkeCodec.TryOpen(order[0], cipher, out inner, out var error), error.ToString());
                }
                else
                {
                    var reassembler = new IkeFragmentReassembler();
                    for (int i = 0; i < order.Length; i++)
                    {
                        var status = reassembler.Add(order[i], cipher, out inner, out var error);
                        Assert.Equal(i == order.Length - 1 ? IkeFragmentStatus.Complete : IkeFragmentStatus.Incomplete, status);
                    }
                }

                Assert.Equal(IkeCodec.EncodePayloads(message.Payloads), IkeCodec.EncodePayloads(inner!));
            }, iter: 400, threads: 1);
    }

    /// <summary>Offsets of every generic payload header's Length field in an encoded cleartext message.</summary>
    static List<int> PayloadLengthOffsets(byte[] bytes)
    {
        var offsets = new List<int>();
        if (bytes.Length < IkeHeader.Size)
            return offsets;
        int pos = IkeHeader.Size;
        byte next = bytes[16];
        while (next != 0 && pos + 4 <= bytes.Length)
        {
            offsets.Add(pos + 2);
            next = bytes[pos];
            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(pos + 2));
            if (length < 4)
                break;
            pos += length;
        }

        return offsets;
    }

    enum Mutation { FlipBit, SetByte, Truncate, Append, SetPayloadLength, SetHeaderLength, SetRandomU16, Splice }

    static readonly Gen<(Mutation Kind, int Position, int Value)> MutationGen =
        Gen.Select(Gen.Enum<Mutation>(), Gen.Int[0, int.MaxValue], Gen.Int);

    static byte[] Mutate(byte[] input, (Mutation Kind, int Position, int Value)[] mutations)
    {
        var bytes = (byte[])input.Clone();
        foreach (var (kind, position, value) in mutations)
        {
            if (bytes.Length == 0)
                break;
            int at = position % bytes.Length;
            switch (kind)
            {
                case Mutation.FlipBit:
                    bytes[at] ^= (byte)(1 << (value & 7));
                    break;
                case Mutation.SetByte:
                    bytes[at] = (byte)value;
                    break;
                case Mutation.Truncate:
                    Array.Resize(ref bytes, at);
                    break;
                case Mutation.Append:
                    int old = bytes.Length;
                    Array.Resize(ref bytes, old + (value & 15) + 1);
                    new Random(value).NextBytes(bytes.AsSpan(old));
                    break;
                case Mutation.SetPayloadLength:
                    var offsets = PayloadLengthOffsets(bytes);
                    if (offsets.Count > 0)
                    {
                        int offset = offsets[position % offsets.Count];
                        if (offset + 2 <= bytes.Length)
                            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset),
                                (ushort)(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset)) + (sbyte)value));
                    }

                    break;
                case Mutation.SetHeaderLength:
                    if (bytes.Length >= 28)
                        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(24), (value & 1) == 0 ? (uint)value : (uint)bytes.Length);
                    break;
                case Mutation.SetRandomU16:
                    if (at + 2 <= bytes.Length)
                        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at), (ushort)value);
                    break;
                case Mutation.Splice:
                    // duplicate a random region in place (repeated payloads, shifted structures)
                    int length = Math.Min((value & 63) + 1, bytes.Length - at);
                    var region = bytes.AsSpan(at, length).ToArray();
                    bytes = [.. bytes.AsSpan(0, at), .. region, .. bytes.AsSpan(at)];
                    break;
            }

            // Usually keep the IKE header's Length in step, so the damage reaches the payload chain.
            if (kind is Mutation.Truncate or Mutation.Append or Mutation.Splice && (value & 0x100) == 0 && bytes.Length >= IkeHeader.Size)
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(24), (uint)bytes.Length);
        }

        return bytes;
    }

    /// <summary>The only acceptable outcomes: a message, or false with a defined error kind and no message.</summary>
    static void AssertDecodesOrFailsCleanly(byte[] bytes)
    {
        if (IkeCodec.TryDecode(bytes, out var message, out var error))
        {
            Assert.NotNull(message);
            Assert.Equal(default, error);
            Assert.True(message.Payloads.Count <= IkeCodec.MaxPayloads);
            if (message.Payloads.Count == 0 || message.Payloads[^1] is not (EncryptedPayload or EncryptedFragmentPayload))
            {
                // whatever decoded must encode again, and that encoding must be stable
                var again = IkeCodec.Encode(message);
                Assert.Equal(again, IkeCodec.Encode(IkeCodec.Decode(again)));
            }
        }
        else
        {
            Assert.Null(message);
            Assert.True(Enum.IsDefined(error.Kind), error.ToString());
            Assert.InRange(error.Offset, 0, bytes.Length);
            Assert.False(string.IsNullOrEmpty(error.Detail));
        }
    }

    [Fact]
    public void MutatedMessagesDecodeOrFailWithATypedError()
    {
        Gen.Select(IkeGen.Message(10), MutationGen.Array[1, 4])
            .Sample((message, mutations) => AssertDecodesOrFailsCleanly(Mutate(IkeCodec.Encode(message), mutations)),
                iter: 20000);
    }

    [Fact]
    public void MutatedProtectedMessagesNeverThrow()
    {
        var cipher = new XorTestCipher(9);
        Gen.Select(IkeGen.Message(6), Gen.Bool, MutationGen.Array[1, 3])
            .Sample((message, fragment, mutations) =>
            {
                var datagrams = fragment
                    ? IkeCodec.EncodeProtectedFragments(message, cipher, 200)
                    : [IkeCodec.EncodeProtected(message, cipher)];
                var reassembler = new IkeFragmentReassembler();
                foreach (var datagram in datagrams)
                {
                    var bytes = Mutate(datagram, mutations);
                    AssertDecodesOrFailsCleanly(bytes);
                    if (!IkeCodec.TryDecode(bytes, out var received, out _))
                        continue;
                    if (!IkeCodec.TryOpen(received, cipher, out var inner, out var error))
                        Assert.Null(inner);
                    var status = reassembler.Add(received, cipher, out inner, out error);
                    Assert.True(Enum.IsDefined(status));
                    Assert.Equal(status == IkeFragmentStatus.Complete, inner is not null);
                }
            }, iter: 3000, threads: 1);
    }

    [Fact]
    public void MutatedInnerChainsNeverThrow()
    {
        Gen.Select(IkeGen.Payload.List[0, 10], MutationGen.Array[1, 4])
            .Sample((payloads, mutations) =>
            {
                var chain = Mutate(IkeCodec.EncodePayloads(payloads), mutations);
                var first = payloads.Count > 0 ? payloads[0].Type : PayloadType.Nonce;
                var into = new List<IkePayload>();
                if (!IkeCodec.TryDecodePayloads(first, chain, into, out var error))
                    Assert.True(Enum.IsDefined(error.Kind));
            }, iter: 10000);
    }

    [Fact]
    public void RandomBytesBehindAValidHeaderNeverThrow()
    {
        Gen.Select(Gen.Byte, Gen.Byte.Array[0, 600])
            .Sample((first, body) =>
            {
                var bytes = new byte[28 + body.Length];
                bytes[16] = first;
                bytes[17] = 0x20;
                bytes[18] = 34;
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(24), (uint)bytes.Length);
                body.CopyTo(bytes, 28);
                AssertDecodesOrFailsCleanly(bytes);
            }, iter: 20000);
    }

    [Fact]
    public void RandomDatagramsNeverThrow()
    {
        Gen.Byte.Array[0, 200].Sample(AssertDecodesOrFailsCleanly, iter: 5000);
    }
}
