using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;

namespace KeyProxy.Handset;

/// <summary>
/// What a handset knows before it attaches: who it is, its subscriber secret (provisioned, shared
/// with the network's subscriber record), its security policies and its limits. It has no IKE
/// configuration: the network negotiates on its behalf (seed claim 1).
/// </summary>
public sealed record HandsetConfig
{
    public required SubscriberIdentity Identity { get; init; }

    /// <summary>The provisioned subscriber secret (at least 16 bytes). Never printed.</summary>
    public required ReadOnlyMemory<byte> Secret { get; init; }

    /// <summary>
    /// SPD entries in order (RFC 4301 4.4.1), local side = this handset. No match means discard, so
    /// a handset that should reach the internet in the clear ends with a bypass-all entry.
    /// </summary>
    public required IReadOnlyList<SecurityPolicy> Policies { get; init; }

    /// <summary>ESP suites the handset can run, in order of preference (sent in each proxy request).</summary>
    public IReadOnlyList<EspSuite> Suites { get; init; } =
    [
        new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn),
        new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn),
        new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn),
    ];

    /// <summary>Retransmission of attach and detach messages to the edge.</summary>
    public RequestRetryPolicy AttachRetry { get; init; } = new(TimeSpan.FromSeconds(1), 2.0, 5);

    /// <summary>Retransmission of key exchange proxy requests; after the last one the held packets are dropped.</summary>
    public RequestRetryPolicy RequestRetry { get; init; } = RequestRetryPolicy.Default;

    /// <summary>Packets held per destination while its SA is negotiated.</summary>
    public int MaxHeldPackets { get; init; } = 64;

    /// <summary>Bytes held per destination while its SA is negotiated.</summary>
    public int MaxHeldBytes { get; init; } = 128 * 1024;

    /// <summary>
    /// After a rekey the old inbound SA stays until traffic arrives on the new one, and then this
    /// long for packets still in flight; or until <see cref="RekeyOverlapLimit"/> passed in any case.
    /// </summary>
    public TimeSpan RekeyDrainTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Longest an old SA is kept beside its replacement.</summary>
    public TimeSpan RekeyOverlapLimit { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After a refusal or failure, packets to that destination are dropped (not re-requested) this long.</summary>
    public TimeSpan RefusalHoldDown { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often SA lifetimes are checked while SAs with time limits exist.</summary>
    public TimeSpan LifetimeCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often an attached handset checks its edge with an echo request (access link liveness); null:
    /// never. When <see cref="KeepaliveMisses"/> requests in a row went unanswered and nothing else came
    /// from the edge either, the attachment is taken as lost.
    /// </summary>
    public TimeSpan? KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(15);

    public int KeepaliveMisses { get; init; } = 3;

    /// <summary>Attach again by itself when the attachment is lost (the edge restarted, or forgot the tunnel).</summary>
    public bool Reattach { get; init; } = true;

    /// <summary>Anti-replay window of every inbound SA (RFC 4303 3.4.3).</summary>
    public int ReplayWindowSize { get; init; } = 1024;

    public override string ToString() => $"Handset {Identity.Value} ({Policies.Count} policies, secret redacted)";
}
