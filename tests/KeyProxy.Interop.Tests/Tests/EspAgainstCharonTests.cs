using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Load.Peers;
using KeyProxy.Primitives;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Our ESP (KeyProxy.Ipsec) against strongSwan's userspace ESP (kernel-libipsec), on an SA our IKE
/// engine negotiated with that charon. charon runs in a network namespace of its own, so its
/// ipsec0 and routes are real: a UDP datagram we encrypt leaves our side as ESP in UDP (RFC 3948),
/// charon decrypts it into ipsec0, the namespace's UDP echo answers, charon encrypts the answer
/// and we decrypt it.
/// </summary>
public sealed class EspAgainstCharonTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly IPAddress OurInnerAddress = IPAddress.Parse("10.77.0.2");

    public static TheoryData<string> Suites() => ["aes128gcm16", "aes256gcm16", "aes128-sha256", "aes256-sha512"];

    private static EspSuite Esp(string name) => name switch
    {
        "aes128gcm16" => new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn),
        "aes256gcm16" => new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn),
        "aes128-sha256" => new(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn),
        "aes256-sha512" => new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_512_256, EsnMode.NoEsn),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Suites))]
    public async Task Udp_echo_through_charons_tunnel_comes_back_decrypted(string suite)
    {
        using var ns = NetworkNamespace.Create();
        using var ports = PortAllocator.AllocateBlock(2);
        await using var charon = await StrongSwanPeer.StartAsync(new()
        {
            Namespace = ns,
            RemoteId = "engine.keyproxy.test",
            RemoteTs = "10.77.0.0/24",
            EspProposals = suite,
        }, Ct);
        using var echo = ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7));
        var echoed = RunEcho(echo);

        await using var host = UdpIkeHost.StartInitiator(EspInteropConfig.Initiator(ns, charon, ports, OurInnerAddress, Esp(suite)));
        try
        {
            var established = await host.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(20));
            var sad = new SecurityAssociationDatabase();
            var pair = ChildSaEsp.Install(sad, established.ChildSa, DateTimeOffset.UtcNow);
            var replies = new List<(IPEndPoint From, byte[] Inner)>();
            var gotReply = new SemaphoreSlim(0);
            host.EspReceived += (datagram, from) =>
            {
                var inner = new byte[datagram.Length];
                var r = sad.Decrypt(datagram.Span, inner, DateTimeOffset.UtcNow);
                if (r.Status != EspStatus.Ok) { output.WriteLine($"ESP from {from}: {r.Status}"); return; }
                lock (replies) replies.Add((from, inner[..r.BytesWritten]));
                gotReply.Release();
            };

            for (int i = 0; i < 3; i++)
            {
                var payload = Encoding.ASCII.GetBytes($"through charon's tunnel #{i} ({suite})");
                var inner = new byte[UdpPacketWriter.HeaderSize(IpFamily.V4) + payload.Length];
                Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(inner, IpAddressValue.FromIPAddress(OurInnerAddress), 40000,
                    IpAddressValue.FromIPAddress(ns.NamespaceAddress), 7, payload, out int innerLength));
                var esp = new byte[pair.Outbound.GetEncryptedLength(innerLength)];
                var sent = pair.Outbound.Encrypt(inner.AsSpan(0, innerLength), esp, DateTimeOffset.UtcNow);
                Assert.Equal(EspStatus.Ok, sent.Status);
                host.SendEsp(esp.AsSpan(0, sent.BytesWritten));

                Assert.True(await gotReply.WaitAsync(TimeSpan.FromSeconds(10), Ct), $"no ESP reply to packet {i}\n{charon.Describe()}");
                (IPEndPoint from, byte[] reply) = replies[^1];
                Assert.Equal(PacketError.None, IpPacket.TryRead(reply, out var ip));
                Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out var udp));
                Assert.Equal(IpAddressValue.FromIPAddress(ns.NamespaceAddress), ip.Source);
                Assert.Equal(IpAddressValue.FromIPAddress(OurInnerAddress), ip.Destination);
                Assert.Equal(7, udp.SourcePort);
                Assert.Equal(40000, udp.DestinationPort);
                Assert.Equal(payload, udp.Payload.ToArray());
                // charon takes our ESP on its IKE port (where our NAT-T path goes, since neither port is 500) but
                // sends its own ESP from its NAT-T socket (port_nat_t), whatever port the IKE SA uses.
                Assert.Equal(charon.NatTEndPoint, from);
            }

            // The echo saw our inner source, so the packets really crossed charon's ipsec0.
            Assert.Equal(OurInnerAddress, (await echoed).Address);
            Assert.Equal(3, (int)pair.Inbound.Counters.Packets);
            var (_, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == established.ChildSa.OutboundSpi, ct: Ct);
            output.WriteLine($"charon: {child} packets-in={child.Raw.Value("packets-in")} packets-out={child.Raw.Value("packets-out")}");
            Assert.Equal(3, int.Parse(child.Raw.Value("packets-in") ?? "0", CultureInfo.InvariantCulture));
            Assert.Equal(3, int.Parse(child.Raw.Value("packets-out") ?? "0", CultureInfo.InvariantCulture));
        }
        catch (Exception) { output.WriteLine(charon.Describe()); throw; }
    }

    [Fact]
    public async Task Tampered_and_replayed_packets_are_dropped_by_charon_and_by_us()
    {
        using var ns = NetworkNamespace.Create();
        using var ports = PortAllocator.AllocateBlock(2);
        await using var charon = await StrongSwanPeer.StartAsync(new() { Namespace = ns, RemoteId = "engine.keyproxy.test", RemoteTs = "10.77.0.0/24" }, Ct);
        using var echo = ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7));
        var echoes = 0;
        _ = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            while (!Ct.IsCancellationRequested)
            {
                SocketReceiveFromResult r;
                try { r = await echo.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), Ct); }
                catch (Exception) { return; }
                Interlocked.Increment(ref echoes);
                await echo.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, Ct);
            }
        }, Ct);

        await using var host = UdpIkeHost.StartInitiator(EspInteropConfig.Initiator(ns, charon, ports, OurInnerAddress));
        try
        {
            var established = await host.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(20));
            var sad = new SecurityAssociationDatabase();
            var pair = ChildSaEsp.Install(sad, established.ChildSa, DateTimeOffset.UtcNow);
            var statuses = new List<EspStatus>();
            var got = new SemaphoreSlim(0);
            byte[]? lastEsp = null;
            host.EspReceived += (datagram, _) =>
            {
                lastEsp = datagram.ToArray();
                var r = sad.Decrypt(datagram.Span, new byte[datagram.Length], DateTimeOffset.UtcNow);
                lock (statuses) statuses.Add(r.Status);
                got.Release();
            };
            byte[] Seal(string text)
            {
                var payload = Encoding.ASCII.GetBytes(text);
                var inner = new byte[UdpPacketWriter.HeaderSize(IpFamily.V4) + payload.Length];
                UdpPacketWriter.TryWrite(inner, IpAddressValue.FromIPAddress(OurInnerAddress), 40001,
                    IpAddressValue.FromIPAddress(ns.NamespaceAddress), 7, payload, out int n);
                var esp = new byte[pair.Outbound.GetEncryptedLength(n)];
                var r = pair.Outbound.Encrypt(inner.AsSpan(0, n), esp, DateTimeOffset.UtcNow);
                return esp[..r.BytesWritten];
            }

            var good = Seal("first");
            host.SendEsp(good);
            Assert.True(await got.WaitAsync(TimeSpan.FromSeconds(10), Ct), charon.Describe());

            // charon drops a replay of the same packet and a packet with a flipped ciphertext bit: no echo.
            host.SendEsp(good);
            var tampered = Seal("second");
            tampered[^20] ^= 0x01;
            host.SendEsp(tampered);
            // A third good packet still gets through: the drops did not disturb the SA.
            host.SendEsp(Seal("third"));
            Assert.True(await got.WaitAsync(TimeSpan.FromSeconds(10), Ct), charon.Describe());
            Assert.Equal(2, Volatile.Read(ref echoes));

            // We drop a replay of charon's last packet and a tampered copy of it.
            var replay = lastEsp!;
            Assert.Equal(EspStatus.Replay, sad.Decrypt(replay, new byte[replay.Length], DateTimeOffset.UtcNow).Status);
            var forged = (byte[])replay.Clone();
            forged[^1] ^= 0x80;
            BitConverterSetSequence(forged, 1000);
            Assert.Equal(EspStatus.IntegrityFailure, sad.Decrypt(forged, new byte[forged.Length], DateTimeOffset.UtcNow).Status);
            lock (statuses) Assert.Equal([EspStatus.Ok, EspStatus.Ok], statuses);
            Assert.Equal(1, pair.Inbound.Counters.Drops(DropReason.Replay));
            Assert.Equal(1, pair.Inbound.Counters.Drops(DropReason.IntegrityFailure));
        }
        catch (Exception) { output.WriteLine(charon.Describe()); throw; }
    }

    /// <summary>Overwrites the ESP sequence number (bytes 4-7, RFC 4303 2.2) so the packet passes the replay window and reaches the ICV check.</summary>
    private static void BitConverterSetSequence(byte[] esp, uint sequence) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(esp.AsSpan(4), sequence);

    /// <summary>Echoes every datagram until the test ends; the task completes with the first sender.</summary>
    private static Task<IPEndPoint> RunEcho(Socket echo)
    {
        var firstSender = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            while (!Ct.IsCancellationRequested)
            {
                SocketReceiveFromResult r;
                try { r = await echo.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), Ct); }
                catch (Exception) { break; }
                firstSender.TrySetResult((IPEndPoint)r.RemoteEndPoint);
                await echo.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, Ct);
            }
            firstSender.TrySetException(new InvalidOperationException("the echo saw nothing"));
        }, Ct);
        return firstSender.Task;
    }
}
