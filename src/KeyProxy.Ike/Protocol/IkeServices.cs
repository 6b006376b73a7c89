using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>What the engine takes from its host: time, randomness and the Diffie-Hellman provider.</summary>
public sealed record IkeServices(IClock Clock, IRandomSource Random, IKeyExchangeProvider KeyExchange)
{
    public static IkeServices Default { get; } = new(SystemClock.Instance, SecureRandomSource.Instance, DefaultKeyExchangeProvider.Instance);
}
