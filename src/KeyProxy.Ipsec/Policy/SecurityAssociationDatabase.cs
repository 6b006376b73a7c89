using System.Collections.Concurrent;
using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// The SAD (RFC 4301 4.4.2): inbound SAs by SPI, outbound SAs by the selectors they cover. Rekeying installs the
/// new pair beside the old one: outbound lookups prefer the newest live SA, the old inbound SA keeps accepting
/// until it is removed. Lookups allocate nothing; changes are rare and may.
/// </summary>
public sealed class SecurityAssociationDatabase
{
    private readonly ConcurrentDictionary<uint, InboundEspSa> _inbound = new();
    private readonly Lock _gate = new();
    private volatile OutboundEspSa[] _outbound = []; // oldest first
    private long _noSaDrops;

    /// <summary>Packets dropped because no SA matched (unknown SPI, or no outbound SA covers the packet).</summary>
    public long NoSaDrops => Interlocked.Read(ref _noSaDrops);

    public IReadOnlyCollection<InboundEspSa> InboundSas => (IReadOnlyCollection<InboundEspSa>)_inbound.Values;

    /// <summary>Outbound SAs, oldest first.</summary>
    public IReadOnlyList<OutboundEspSa> OutboundSas => _outbound;

    /// <summary>Adds an inbound SA; false when its SPI is already present.</summary>
    public bool Add(InboundEspSa sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        return _inbound.TryAdd(sa.Spi, sa);
    }

    /// <summary>Adds an outbound SA as the newest.</summary>
    public void Add(OutboundEspSa sa)
    {
        ArgumentNullException.ThrowIfNull(sa);
        lock (_gate)
        {
            _outbound = [.. _outbound, sa];
        }
    }

    /// <summary>Adds both SAs of a pair; false (and nothing added) when the inbound SPI is taken.</summary>
    public bool Add(EspSaPair pair)
    {
        if (!Add(pair.Inbound))
        {
            return false;
        }

        Add(pair.Outbound);
        return true;
    }

    /// <summary>Builds the pair of one CHILD_SA (<see cref="EspSaFactory.Create"/>) and installs it beside any older pair.</summary>
    public EspSaPair Install(EspSaParameters inbound, EspSaParameters outbound, DateTimeOffset now)
    {
        var pair = EspSaFactory.Create(inbound, outbound, now);
        if (!Add(pair))
        {
            pair.Dispose();
            throw new InvalidOperationException($"inbound SPI 0x{inbound.Spi:x8} is already installed");
        }

        return pair;
    }

    public bool TryGetInbound(uint spi, out InboundEspSa sa) => _inbound.TryGetValue(spi, out sa!);

    /// <summary>The newest non-expired outbound SA covering the packet (an expired one only if no live one does).</summary>
    public OutboundEspSa? FindOutbound(in PacketSelector packet)
    {
        var list = _outbound;
        OutboundEspSa? expired = null;
        for (var i = list.Length - 1; i >= 0; i--)
        {
            var sa = list[i];
            if (sa.Covers(packet, localIsSource: true))
            {
                if (!sa.IsExpired)
                {
                    return sa;
                }

                expired ??= sa;
            }
        }

        return expired;
    }

    public OutboundEspSa? FindOutbound(uint spi)
    {
        foreach (var sa in _outbound)
        {
            if (sa.Spi == spi)
            {
                return sa;
            }
        }

        return null;
    }

    /// <summary>Removes (without disposing) the inbound SA with this SPI.</summary>
    public bool RemoveInbound(uint spi) => _inbound.TryRemove(spi, out _);

    /// <summary>Removes (without disposing) the outbound SA with this SPI.</summary>
    public bool RemoveOutbound(uint spi)
    {
        lock (_gate)
        {
            var list = _outbound;
            var index = Array.FindIndex(list, sa => sa.Spi == spi);
            if (index < 0)
            {
                return false;
            }

            _outbound = [.. list[..index], .. list[(index + 1)..]];
            return true;
        }
    }

    /// <summary>Removes both SAs of a pair.</summary>
    public void Remove(EspSaPair pair)
    {
        RemoveInbound(pair.Inbound.Spi);
        RemoveOutbound(pair.Outbound.Spi);
    }

    /// <summary>
    /// Decrypts an ESP packet with the inbound SA its SPI names; <see cref="EspStatus.NoSa"/> (counted here)
    /// when there is none.
    /// </summary>
    public EspDecryptResult Decrypt(ReadOnlySpan<byte> espPacket, Span<byte> destination, DateTimeOffset now)
    {
        if (!EspPacket.TryReadSpi(espPacket, out var spi) || !_inbound.TryGetValue(spi, out var sa))
        {
            Interlocked.Increment(ref _noSaDrops);
            return new EspDecryptResult(EspStatus.NoSa, 0, 0, 0, LifetimeEvents.None);
        }

        return sa.Decrypt(espPacket, destination, now);
    }

    /// <summary>
    /// Tunnel mode: encrypts an inner IP packet with the newest outbound SA covering it; <see cref="EspStatus.NoSa"/>
    /// (counted here) when none does, <see cref="EspStatus.Malformed"/> when the packet is unreadable.
    /// </summary>
    public EspEncryptResult Encrypt(ReadOnlySpan<byte> innerPacket, Span<byte> destination, DateTimeOffset now)
    {
        if (!PacketSelector.TryRead(innerPacket, out var selector))
        {
            return new EspEncryptResult(EspStatus.Malformed, 0, 0, LifetimeEvents.None);
        }

        var sa = FindOutbound(selector);
        if (sa is null)
        {
            Interlocked.Increment(ref _noSaDrops);
            return new EspEncryptResult(EspStatus.NoSa, 0, 0, LifetimeEvents.None);
        }

        return sa.Encrypt(innerPacket, destination, now);
    }

    /// <summary>Runs every SA's time check; adds SAs that crossed a limit to <paramref name="notices"/>. Returns how many did.</summary>
    public int Tick(DateTimeOffset now, ICollection<SaLifetimeNotice>? notices = null)
    {
        var count = 0;
        foreach (var sa in _inbound.Values)
        {
            count += Report(sa, sa.Tick(now), notices);
        }

        foreach (var sa in _outbound)
        {
            count += Report(sa, sa.Tick(now), notices);
        }

        return count;
    }

    private static int Report(EspSa sa, LifetimeEvents events, ICollection<SaLifetimeNotice>? notices)
    {
        if (events == LifetimeEvents.None)
        {
            return 0;
        }

        notices?.Add(new SaLifetimeNotice(sa, events));
        return 1;
    }
}
