using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// RFC 7296 2.11 at the proxy: a datagram that carries a live IKE SA's SPIs but does not verify
/// must not move where the proxy session sends. After a forged INFORMATIONAL from another
/// address, the handset's detach still deletes the IKE SA at charon, so the DELETE went to charon.
/// </summary>
public sealed class ForgedIkeTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_forged_ike_message_with_known_spis_does_not_redirect_the_session()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        var charon = await world.StartCharonAsync(ct: Ct);
        var (handset, events, attached) = await world.AttachAsync(Ct);
        await using var _ = handset;
        try
        {
            await world.EstablishFromHandsetAsync(handset, events, Ct);
            var ike = (await charon.ListSasAsync(Ct)).Single(sa => sa.IsEstablished && sa.RemoteHost == attached.Address.ToString());

            // An INFORMATIONAL request with the SA's SPIs and garbage for its SK payload, from an address that is not charon's,
            // to the handset's NAT-T socket (where the IKE SA lives now), with the non-ESP marker.
            var forged = new byte[4 + 28 + 40];
            BinaryPrimitives.WriteUInt64BigEndian(forged.AsSpan(4), ike.InitiatorSpi);
            BinaryPrimitives.WriteUInt64BigEndian(forged.AsSpan(12), ike.ResponderSpi);
            forged[4 + 16] = 46; // next payload SK
            forged[4 + 17] = 0x20;
            forged[4 + 18] = 37; // INFORMATIONAL
            forged[4 + 19] = 0x08; // initiator, request
            BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(4 + 20), 7);
            BinaryPrimitives.WriteUInt32BigEndian(forged.AsSpan(4 + 24), (uint)(forged.Length - 4));
            forged[4 + 28 + 1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(forged.AsSpan(4 + 28 + 2), 40);
            using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            long before = world.Silo.Edge.Metrics.Packets(KeyProxy.Edge.EdgePacketClass.IkeFromNetwork);
            attacker.SendTo(forged, new IPEndPoint(attached.Address, 4500));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (world.Silo.Edge.Metrics.Packets(KeyProxy.Edge.EdgePacketClass.IkeFromNetwork) == before && DateTime.UtcNow < deadline)
                await Task.Delay(20, Ct);
            Assert.True(world.Silo.Edge.Metrics.Packets(KeyProxy.Edge.EdgePacketClass.IkeFromNetwork) > before, "the forged message reached the session");
            await Task.Delay(300, Ct);

            // The session's next message, the DELETE on detach, must reach charon.
            handset.Detach();
            await events.WaitAsync<Detached>(null, TimeSpan.FromSeconds(10), Ct);
            await charon.WaitForNoIkeSaAsync(sa => sa.RemoteHost == attached.Address.ToString(), ct: Ct);
            attacker.ReceiveTimeout = 200;
            Assert.Throws<SocketException>(() => attacker.Receive(new byte[2048])); // nothing was sent to the forger
        }
        catch (Exception) { output.WriteLine(world.Describe()); throw; }
    }
}
