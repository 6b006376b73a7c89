using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// Everything one unidirectional ESP SA needs, as plain values (RFC 4301 4.4.2.1): what a key transfer message
/// carries to a handset, or what a host takes from the CHILD_SA its IKE negotiated.
/// Selectors are always in this node's orientation: <see cref="LocalSelectors"/> describe this side's
/// addresses, whichever direction the SA carries. ToString never shows key bytes.
/// </summary>
public sealed class EspSaParameters
{
    public required uint Spi { get; init; }

    public required EspSuite Suite { get; init; }

    /// <summary>Encryption key material (AES-GCM: key || 4-byte salt, RFC 4106 8.1).</summary>
    public required ReadOnlyMemory<byte> EncryptionKey { get; init; }

    /// <summary>Integrity key (empty for AES-GCM).</summary>
    public ReadOnlyMemory<byte> IntegrityKey { get; init; }

    public ChildSaMode Mode { get; init; } = ChildSaMode.Tunnel;

    public SaLifetime Lifetime { get; init; } = SaLifetime.Unlimited;

    /// <summary>Anti-replay window in packets (RFC 4303 3.4.3); a power of two, at least 64. Inbound only.</summary>
    public int ReplayWindowSize { get; init; } = ReplayWindow.DefaultSize;

    /// <summary>This node's side of the traffic the SA carries; empty means any.</summary>
    public IReadOnlyList<TrafficSelector> LocalSelectors { get; init; } = [];

    /// <summary>The peer's side of the traffic the SA carries; empty means any.</summary>
    public IReadOnlyList<TrafficSelector> RemoteSelectors { get; init; } = [];

    /// <summary>Source of CBC IVs and of the GCM IV mask; the OS CSPRNG by default.</summary>
    public IRandomSource Random { get; init; } = SecureRandomSource.Instance;

    public override string ToString() => $"ESP SA 0x{Spi:x8} {Suite} {Mode} (keys redacted)";
}
