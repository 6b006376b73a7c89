using System.Net;
using KeyProxy.Grains;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Silo.Tests;

public sealed class ChildSaBundleTests
{
    [Fact]
    public void The_bundle_carries_the_child_sa_as_the_handset_sees_it()
    {
        var keys = new ChildSaSecrets
        {
            InboundEncryptionKey = new byte[36],
            InboundIntegrityKey = ReadOnlyMemory<byte>.Empty,
            OutboundEncryptionKey = Enumerable.Repeat((byte)7, 36).ToArray(),
            OutboundIntegrityKey = ReadOnlyMemory<byte>.Empty,
        };
        var ts = new TrafficSelector(0, 0, 65535, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.1"));
        var sa = new ChildSa
        {
            InboundSpi = 0xc0000001,
            OutboundSpi = 0xc0000002,
            Suite = new EspSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn),
            Keys = keys,
            LocalSelectors = [ts],
            RemoteSelectors = [ts],
            Mode = ChildSaMode.Tunnel,
            UdpEncapsulation = true,
            LocalEndpoint = new IPEndPoint(IPAddress.Parse("127.0.0.10"), 4500),
            RemoteEndpoint = new IPEndPoint(IPAddress.Parse("127.0.0.20"), 4501),
            RekeyAfter = TimeSpan.FromSeconds(3000.5),
            ExpireAfter = TimeSpan.FromHours(1),
            IkeInitiatorSpi = 1,
            IkeResponderSpi = 2,
        };
        var bundle = sa.ToSaBundle();
        Assert.Equal(0xc0000001u, bundle.InboundSpi);
        Assert.Equal(IPAddress.Parse("127.0.0.20"), bundle.PeerAddress);
        Assert.Equal(4501, bundle.PeerPort);
        Assert.Equal(4500, bundle.HandsetPort);
        Assert.Equal(new SaLifetimes(3001, 3600, 0, 0, 0, 0), bundle.Lifetimes);
        Assert.Equal(sa.Suite, bundle.Suite);
        Assert.True(bundle.OutboundEncryptionKey.Span.SequenceEqual(keys.OutboundEncryptionKey.Span));
    }
}
