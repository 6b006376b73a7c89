using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Protocol;
using KeyProxy.Load.Baselines;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Tests;

/// <summary><c>engine-sa</c>: handsets doing their own IKE with our engine against responder peers on loopback, per DH group.</summary>
public class EngineSaSmokeTests
{
    [Theory]
    [InlineData("x25519", "127.0.131.0")]
    [InlineData("ecp256", "127.0.132.0")]
    [InlineData("modp2048", "127.0.133.0")]
    public async Task Twelve_handsets_each_establish_an_ike_sa_and_child_sa_with_the_group(string group, string peerNetwork)
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-engine-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var scenario = new EngineSaScenario(new EngineSaOptions(Handsets: 12, Peers: 3, PeerIkePort: FreeUdpPort(), PeerNatTPort: FreeUdpPort(), group)
            {
                PeerNetwork = IPAddress.Parse(peerNetwork), HandsetNetwork = IPAddress.Parse("127.0.134.0"), SocketPairs = 2,
            });
            var (run, violations) = await LoadSession.RunAsync(scenario.Build(), new KeepConstant(4, TimeSpan.FromSeconds(8)), dir,
                [AttachSmokeTests.Parse("engine-sa:fail<=0")], TextWriter.Null, live: false, ct);

            var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
            Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
            Assert.Equal(12, step.Ok);
            Assert.Empty(violations);
            Assert.Equal(12, scenario.Peers!.Established);
            Assert.Equal(12, scenario.Peers.ChildSas);
            Assert.All(scenario.Peers.Hosts, h => Assert.Equal(4, h.Established));
            Assert.Equal(0, scenario.Initiators!.Dropped);
            Assert.Contains("engine-sa", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_handset_offering_another_group_than_the_peers_accept_gets_no_proposal_chosen()
    {
        var ct = TestContext.Current.CancellationToken;
        int ikePort = FreeUdpPort(), natTPort = FreeUdpPort();
        var network = IPAddress.Parse("127.0.135.0");
        await using var peers = new ResponderPeers(1, network, ikePort, natTPort, [DhGroupChoice.IkeProposal("ecp256")]);
        await using var initiators = new EngineInitiators([IPAddress.Parse("127.0.136.1")], 0, 0);
        var x25519 = new EngineSaScenario(new EngineSaOptions(1, 1, ikePort, natTPort, "x25519") { PeerNetwork = network, ExternalPeers = true });
        await x25519.Build().Init!(new ScenarioInitContext(new KeepConstant(1, TimeSpan.FromSeconds(1)), ct));
        await using (x25519)
        {
            var outcome = await initiators.EstablishAsync(x25519.Config(0, initiators.IkeEndPoint(0)), 0, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
            var closed = Assert.IsType<IkeSaClosed>(outcome);
            Assert.Equal(IkeCloseReason.NoProposalChosen, closed.Reason);
            Assert.Equal(0, peers.Established);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
