using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Fuzz.Support;

/// <summary>
/// A Diffie-Hellman stand-in for fuzzing: public values are a counter's hash, the shared secret is a hash of
/// both public values (the same on both sides). It keeps the exchange deterministic and cheap, so every fuzz
/// input can replay a whole handshake; length checks are those of the real groups. Not a key exchange.
/// </summary>
public sealed class FakeKeyExchangeProvider(ulong seed) : IKeyExchangeProvider
{
    private ulong _counter;

    public string Name => "fake (fuzzing only)";

    /// <summary>The last secret either side derived (both derive the same one).</summary>
    public byte[]? LastSharedSecret { get; internal set; }

    public bool Supports(DhGroup group) => DhGroupInfo.IsSupported(group);

    public IKeyExchange Create(DhGroup group)
    {
        var publicKey = new byte[DhGroupInfo.PublicKeyLength(group)];
        Span<byte> input = stackalloc byte[16];
        BitConverter.TryWriteBytes(input, seed);
        BitConverter.TryWriteBytes(input[8..], ++_counter);
        for (var offset = 0; offset < publicKey.Length; offset += 32)
        {
            var block = SHA256.HashData(input);
            block.AsSpan(0, Math.Min(32, publicKey.Length - offset)).CopyTo(publicKey.AsSpan(offset));
            input[0]++;
        }
        return new FakeKeyExchange(this, group, publicKey);
    }

    private sealed class FakeKeyExchange(FakeKeyExchangeProvider owner, DhGroup group, byte[] publicKey) : IKeyExchange
    {
        public DhGroup Group => group;

        public ReadOnlySpan<byte> PublicKey => publicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            if (peerPublicKey.Length != publicKey.Length)
                throw new InvalidKeyExchangeException(group, $"{peerPublicKey.Length} bytes, expected {publicKey.Length}");
            // Order the two values so both sides hash the same bytes.
            var peerFirst = peerPublicKey.SequenceCompareTo(publicKey) < 0;
            var both = new byte[2 * publicKey.Length];
            peerPublicKey.CopyTo(both.AsSpan(peerFirst ? 0 : publicKey.Length));
            publicKey.CopyTo(both.AsSpan(peerFirst ? publicKey.Length : 0));
            var secret = SHA256.HashData(both);
            owner.LastSharedSecret = secret;
            return secret;
        }

        public void Dispose()
        {
        }
    }
}
