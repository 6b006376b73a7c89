using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>The default provider, with every shared secret it derives recorded in order (key schedule tests).</summary>
internal sealed class RecordingKeyExchangeProvider : IKeyExchangeProvider
{
    public List<(DhGroup Method, byte[] Secret)> Secrets { get; } = [];

    public string Name => "recording";

    public bool Supports(DhGroup group) => DefaultKeyExchangeProvider.Instance.Supports(group);

    public IKeyExchange Create(DhGroup group) => new Recording(DefaultKeyExchangeProvider.Instance.Create(group), this);

    private sealed class Recording(IKeyExchange inner, RecordingKeyExchangeProvider owner) : IKeyExchange
    {
        public DhGroup Group => inner.Group;

        public ReadOnlySpan<byte> PublicKey => inner.PublicKey;

        public byte[] DeriveSharedSecret(ReadOnlySpan<byte> peerPublicKey)
        {
            var secret = inner.DeriveSharedSecret(peerPublicKey);
            owner.Secrets.Add((Group, (byte[])secret.Clone()));
            return secret;
        }

        public void Dispose() => inner.Dispose();
    }
}
