using System.Net;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>
/// The subscriber terminal of the seed (terminal 5): SPD, SAD and ESP, but no IKE and no
/// Diffie-Hellman. It attaches to an edge with a challenge-response over its subscriber secret,
/// asks the network for an SA when its SPD says protect and none exists (key exchange proxy
/// request), holds the packets meanwhile, and installs what the key transfer brings.
/// </summary>
/// <remarks>
/// Sans-IO: the host feeds access-link datagrams to <see cref="Receive"/>, application packets to
/// <see cref="Send"/> and calls <see cref="HandleTimer"/> at <see cref="NextDeadline"/>; it sends
/// what <see cref="TakeOutputs"/> returns. The data path writes into the caller's spans and
/// allocates nothing once an SA is installed. Not thread-safe: one caller at a time.
/// </remarks>
public sealed partial class Handset : IDisposable
{
    /// <summary>RFC 7296 2.11 / RFC 3948: the proxy request goes to the peer's IKE port, ESP in UDP uses 4500.</summary>
    public const ushort IkePort = 500;
    public const ushort NatTPort = 4500;

    private readonly IClock _clock;
    private readonly IRandomSource _random;
    private readonly SecurityPolicyDatabase _spd = new();
    private readonly SecurityAssociationDatabase _sad = new();
    private readonly Dictionary<uint, InstalledSa> _byInbound = [];
    private readonly Dictionary<uint, InstalledSa> _byOutbound = [];
    private readonly Dictionary<IpAddressValue, PendingProxyRequest> _pending = [];
    private readonly Dictionary<IpAddressValue, DateTimeOffset> _refusedUntil = [];
    private readonly List<HandsetOutput> _outputs = [];
    private readonly byte[] _attachKey;

    private uint _nextRequestId;
    private KeyTransferOpener? _opener;
    private byte[]? _deliveryKey;
    private IpAddressValue _address;
    private Nonce16 _handsetNonce;
    private Nonce16 _edgeNonce;
    private byte[]? _lastAttachMessage;
    private int _attachAttempts;
    private DateTimeOffset? _attachRetryAt;
    private DateTimeOffset? _nextLifetimeCheck;
    private DateTimeOffset? _nextEcho;
    private int _unansweredEchoes;
    private uint _echoCounter;

    public Handset(HandsetConfig config, IClock? clock = null, IRandomSource? random = null)
    {
        Config = config;
        _clock = clock ?? SystemClock.Instance;
        _random = random ?? SecureRandomSource.Instance;
        _attachKey = SubscriberKeys.DeriveAttachKey(config.Secret.Span);
        foreach (var policy in config.Policies) _spd.Add(policy);
        Span<byte> id = stackalloc byte[4];
        _random.Fill(id);
        _nextRequestId = Math.Max(1u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(id) & 0x7fffffff);
    }

    public HandsetConfig Config { get; }

    public HandsetState State { get; private set; } = HandsetState.Detached;

    /// <summary>The tunnel id the edge gave at attach (0 when detached).</summary>
    public uint TunnelId { get; private set; }

    /// <summary>The address the network gave this handset at attach.</summary>
    public IPAddress? Address => _address.Family == IpFamily.None ? null : _address.ToIPAddress();

    public HandsetCounters Counters { get; } = new();

    /// <summary>The SAD, for inspection (installed pairs, their counters).</summary>
    public SecurityAssociationDatabase Sad => _sad;

    /// <summary>Inbound SPIs of the installed SA pairs.</summary>
    public IReadOnlyCollection<uint> InstalledInboundSpis => _byInbound.Keys;

    /// <summary>Destinations with a proxy request in flight.</summary>
    public int PendingRequests => _pending.Count;

    /// <summary>When <see cref="HandleTimer"/> must run next, if anything waits.</summary>
    public DateTimeOffset? NextDeadline
    {
        get
        {
            DateTimeOffset? next = _attachRetryAt;
            foreach (var p in _pending.Values) next = Min(next, p.RetryAt);
            foreach (var sa in _byInbound.Values) next = Min(next, sa.RemoveAt);
            if (_byInbound.Count > 0) next = Min(next, _nextLifetimeCheck);
            if (State == HandsetState.Attached) next = Min(next, _nextEcho);
            return next;
        }
    }

    /// <summary>Datagrams to send and events, in order; empties the queue.</summary>
    public IReadOnlyList<HandsetOutput> TakeOutputs()
    {
        if (_outputs.Count == 0) return [];
        var taken = _outputs.ToArray();
        _outputs.Clear();
        return taken;
    }

    public void Dispose()
    {
        RemoveAllSas(SaRemovalReason.Detached, report: false);
        _opener?.Dispose();
        _opener = null;
    }

    private void Emit(HandsetOutput output) => _outputs.Add(output);

    private void EmitDatagram(byte[] datagram) => _outputs.Add(new AccessDatagram(datagram));

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a < b ? a : b);

    public override string ToString() => $"Handset {Config.Identity.Value} {State} tunnel {TunnelId} address {Address}";
}
