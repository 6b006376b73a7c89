using System.CommandLine;
using System.Net;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

// keyproxy-ike: one IKE SA of our engine over real UDP, printing every event.
var mode = new Argument<string>("mode") { Description = "initiate or respond" };
var local = new Option<string>("--local") { Description = "local address:port for IKE", DefaultValueFactory = _ => "127.0.0.1:5000" };
var localNatT = new Option<int>("--local-natt") { Description = "local NAT-T port", DefaultValueFactory = _ => 5001 };
var remote = new Option<string>("--remote") { Description = "peer address:port for IKE", DefaultValueFactory = _ => "127.0.0.1:500" };
var remoteNatT = new Option<int>("--remote-natt") { Description = "peer NAT-T port", DefaultValueFactory = _ => 4500 };
var psk = new Option<string>("--psk") { Description = "pre-shared key", Required = true };
var localId = new Option<string>("--local-id") { DefaultValueFactory = _ => "keyproxy.test" };
var remoteId = new Option<string?>("--remote-id") { Description = "the FQDN identity the peer must prove" };
var ike = new Option<string>("--ike") { DefaultValueFactory = _ => "aes128gcm16-prfsha256-x25519" };
var esp = new Option<string>("--esp") { DefaultValueFactory = _ => "aes128gcm16" };
var localTs = new Option<string>("--local-ts") { Description = "local selector, address/prefix", DefaultValueFactory = _ => "127.0.0.1/32" };
var remoteTs = new Option<string>("--remote-ts") { DefaultValueFactory = _ => "127.0.0.1/32" };
var seconds = new Option<int>("--seconds") { Description = "how long to run", DefaultValueFactory = _ => 30 };

var root = new RootCommand("Run the KeyProxy IKEv2 engine against a peer over UDP and print what happens.")
{
    mode, local, localNatT, remote, remoteNatT, psk, localId, remoteId, ike, esp, localTs, remoteTs, seconds,
};
root.SetAction(async (result, ct) =>
{
    var key = System.Text.Encoding.UTF8.GetBytes(result.GetValue(psk)!);
    var config = new IkeSessionConfig
    {
        LocalIdentity = IkeIdentity.Fqdn(result.GetValue(localId)!),
        LocalCredential = new PreSharedKeyCredential(key),
        PeerAuthentication = PeerAuthentication.WithPreSharedKey(key),
        RemoteIdentity = result.GetValue(remoteId) is { } rid ? IkeIdentity.Fqdn(rid) : null,
        IkeProposals = [IkeSuiteNames.ParseIke(result.GetValue(ike)!)],
        Child = new ChildSaConfig
        {
            Proposals = [SuiteNames.ParseEsp(result.GetValue(esp)!)],
            LocalSelectors = [Prefix(result.GetValue(localTs)!)],
            RemoteSelectors = [Prefix(result.GetValue(remoteTs)!)],
        },
        LocalEndpoint = IPEndPoint.Parse(result.GetValue(local)!),
        RemoteEndpoint = IPEndPoint.Parse(result.GetValue(remote)!),
        LocalNatTraversalPort = result.GetValue(localNatT),
        RemoteNatTraversalPort = result.GetValue(remoteNatT),
    };
    var initiate = result.GetValue(mode) switch
    {
        "initiate" => true,
        "respond" => false,
        var other => throw new ArgumentException($"mode must be initiate or respond, not '{other}'"),
    };
    await using var host = initiate ? UdpIkeHost.StartInitiator(config) : UdpIkeHost.StartResponder(config);
    host.EventRaised += e => Console.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e}");
    Console.WriteLine($"{(initiate ? "initiating to" : "waiting for")} {config.RemoteEndpoint} from {config.LocalEndpoint}");
    try { await Task.Delay(TimeSpan.FromSeconds(result.GetValue(seconds)), ct); }
    catch (OperationCanceledException) { }
    if (host.Session?.State == IkeSessionState.Established)
    {
        host.Command(s => s.Delete());
        await Task.Delay(500, CancellationToken.None);
    }
    return 0;
});
return await root.Parse(args).InvokeAsync();

static KeyProxy.Primitives.TrafficSelector Prefix(string text)
{
    var parts = text.Split('/');
    var address = IPAddress.Parse(parts[0]);
    var length = parts.Length > 1 ? int.Parse(parts[1]) : address.GetAddressBytes().Length * 8;
    return TrafficSelectorNarrowing.ForPrefix(address, length);
}
