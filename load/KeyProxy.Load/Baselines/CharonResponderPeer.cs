namespace KeyProxy.Load.Baselines;

/// <summary>
/// <c>--peer strongswan</c>: one charon answering as every peer address (it binds the wildcard address on the peer
/// ports, so any 127.x peer address reaches it), through the load-tester plugin's responder config: PSK
/// (<see cref="Peers.ResponderPeers.Psk"/>), the chosen IKE proposal, local selector the peers' /24, remote
/// selector the handsets' pool, and the plugin's fake kernel-ipsec (no XFRM state, policy, route or TUN device
/// on this host: ESP sent to it is dropped, as the engine peers only count it).
/// </summary>
public sealed class CharonResponderPeer : IAsyncDisposable
{
    private readonly CharonDaemon _daemon;

    private CharonResponderPeer(CharonDaemon daemon) => _daemon = daemon;

    public int Pid => _daemon.Pid;

    public string Directory => _daemon.Directory;

    /// <param name="peerPrefix">The peers' prefix, e.g. 127.0.140.0/24 (the CHILD_SA's local selector).</param>
    /// <param name="handsetPool">The handsets' pool, e.g. 127.3.0.0/20 (the remote selector it accepts).</param>
    public static async Task<CharonResponderPeer> StartAsync(string directory, int ikePort, int natTPort, string ikeProposal,
        string peerPrefix, string handsetPool, CancellationToken ct)
    {
        var install = StrongSwanInstall.ForProposal(ikeProposal);
        install.EnsureLoadTester();
        var config = new LoadTesterConfig
        {
            Install = install,
            Directory = directory, IkePort = ikePort, NatTPort = natTPort, IkeProposal = ikeProposal,
            ResponderAddress = "0.0.0.0", ResponderId = "peer.load.keyproxy.test", InitiatorMatch = "%any",
            ResponderLocalTs = peerPrefix, ResponderRemoteTs = handsetPool, Threads = 32,
        };
        var daemon = await CharonDaemon.StartAsync(directory, config.Render(), networkNamespace: null, install, ct);
        await daemon.WaitForFileAsync(config.ControlSocket, TimeSpan.FromSeconds(10), ct);
        return new CharonResponderPeer(daemon);
    }

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();
}
