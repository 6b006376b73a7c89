using System.Net;
using System.Text;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Handset.Tests;

/// <summary>A handset wired to a <see cref="FakeEdge"/> in memory, on a manual clock.</summary>
internal sealed class HandsetRig : IDisposable
{
    public static readonly IPAddress HandsetAddress = IPAddress.Parse("10.45.0.7");
    public static readonly IPAddress Peer = IPAddress.Parse("198.51.100.20");
    public static readonly IPAddress OtherPeer = IPAddress.Parse("198.51.100.99");
    public static readonly IPAddress ClearHost = IPAddress.Parse("203.0.113.5");
    public static readonly SubscriberIdentity Identity = new(IdentityType.Nai, "alice@keyproxy.test");
    public static readonly byte[] Secret = Encoding.ASCII.GetBytes("alice's provisioned secret");

    public HandsetRig(Func<HandsetConfig, HandsetConfig>? configure = null, byte[]? edgeSecret = null)
    {
        var config = new HandsetConfig
        {
            Identity = Identity,
            Secret = Secret,
            Policies =
            [
                new SecurityPolicy(PolicyAction.Protect, Selectors.Any(System.Net.Sockets.AddressFamily.InterNetwork), Selectors.Prefix("198.51.100.0/24"), "protect peers"),
                new SecurityPolicy(PolicyAction.Bypass, Selectors.Any(System.Net.Sockets.AddressFamily.InterNetwork), Selectors.Prefix("203.0.113.0/24"), "clear"),
            ],
        };
        Handset = new Handset(configure?.Invoke(config) ?? config, Clock);
        Edge = new FakeEdge(Identity, edgeSecret ?? Secret, HandsetAddress);
    }

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
    public Handset Handset { get; }
    public FakeEdge Edge { get; }
    public List<HandsetEvent> Events { get; } = [];
    public List<byte[]> Delivered { get; } = [];

    /// <summary>When false, datagrams from the handset are dropped on the way to the edge.</summary>
    public bool LinkUp { get; set; } = true;

    public T Single<T>() where T : HandsetEvent => Assert.Single(Events.OfType<T>());

    /// <summary>Moves handset outputs to the edge and edge replies back until nothing moves.</summary>
    public void Pump()
    {
        for (int round = 0; round < 100; round++)
        {
            var outputs = Handset.TakeOutputs();
            if (outputs.Count == 0) return;
            foreach (var output in outputs)
            {
                if (output is HandsetEvent e) Events.Add(e);
                else if (output is AccessDatagram d && LinkUp)
                    foreach (var reply in Edge.Handle(d.Data, Clock.UtcNow)) Receive(reply);
            }
        }
        throw new InvalidOperationException("the handset and the edge keep talking");
    }

    public HandsetPacketResult Receive(byte[] datagram)
    {
        var buffer = new byte[datagram.Length];
        var r = Handset.Receive(datagram, buffer);
        if (r.Status == HandsetPacketStatus.Ok) Delivered.Add(buffer[..r.Length]);
        return r;
    }

    public void Attach()
    {
        Handset.Attach();
        Pump();
        Assert.Equal(HandsetState.Attached, Handset.State);
    }

    /// <summary>Sends an application packet; a ready datagram goes to the edge (and its echo comes back).</summary>
    public HandsetPacketResult Send(byte[] packet)
    {
        var datagram = new byte[Handset.MaxDatagramLength(packet.Length)];
        var r = Handset.Send(packet, datagram);
        if (r.Status == HandsetPacketStatus.Ok && LinkUp)
            foreach (var reply in Edge.Handle(datagram[..r.Length], Clock.UtcNow)) Receive(reply);
        Pump();
        return r;
    }

    /// <summary>Moves the clock forward deadline by deadline, running the handset's timer at each.</summary>
    public void Advance(TimeSpan by)
    {
        var target = Clock.UtcNow + by;
        while (Handset.NextDeadline is { } due && due <= target)
        {
            if (due > Clock.UtcNow) Clock.Set(due);
            Handset.HandleTimer();
            Pump();
        }
        Clock.Set(target);
    }

    public static byte[] Udp(IPAddress source, IPAddress destination, string text, ushort sourcePort = 40000, ushort destinationPort = 7)
    {
        var payload = Encoding.ASCII.GetBytes(text);
        var packet = new byte[48 + payload.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort,
            IpAddressValue.FromIPAddress(destination), destinationPort, payload, out int n));
        return packet[..n];
    }

    public byte[] ToPeer(string text, IPAddress? peer = null) => Udp(HandsetAddress, peer ?? Peer, text);

    public void Dispose()
    {
        Handset.Dispose();
        Edge.Dispose();
    }
}

internal sealed class ManualClock(DateTimeOffset start) : IClock
{
    public DateTimeOffset UtcNow { get; private set; } = start;

    public void Advance(TimeSpan by) => UtcNow += by;

    public void Set(DateTimeOffset now) => UtcNow = now;
}
