using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;

// keyproxy-handset: a handset on a real UDP socket. It attaches to an edge, sends UDP datagrams to a
// peer (through an SA the network negotiates for it when the SPD says protect) and prints what happens.
var edge = new Option<string>("--edge") { Description = "the edge's access endpoint, address:port", Required = true };
var nai = new Option<string?>("--nai") { Description = "identity as a NAI, e.g. alice@keyproxy.test" };
var msisdn = new Option<string?>("--msisdn") { Description = "identity as an MSISDN (digits)" };
var secret = new Option<string?>("--secret") { Description = "the provisioned subscriber secret, as text" };
var secretHex = new Option<string?>("--secret-hex") { Description = "the provisioned subscriber secret, as hex" };
var protect = new Option<string[]>("--protect") { Description = "protect traffic to this prefix (CIDR; repeatable)", AllowMultipleArgumentsPerToken = true };
var bypass = new Option<string[]>("--bypass") { Description = "send traffic to this prefix in the clear (CIDR; repeatable)", AllowMultipleArgumentsPerToken = true };
var to = new Option<string?>("--to") { Description = "send datagrams to address:port" };
var message = new Option<string>("--message") { Description = "text of each datagram", DefaultValueFactory = _ => "hello from keyproxy-handset" };
var count = new Option<int>("--count") { Description = "how many datagrams to send", DefaultValueFactory = _ => 3 };
var interval = new Option<int>("--interval-ms") { Description = "pause between datagrams", DefaultValueFactory = _ => 1000 };
var sourcePort = new Option<int>("--source-port") { Description = "UDP source port of the datagrams", DefaultValueFactory = _ => 40000 };
var seconds = new Option<int>("--seconds") { Description = "how long to stay attached after the last datagram", DefaultValueFactory = _ => 3 };
var esp = new Option<string[]>("--esp")
{
    Description = "ESP suites this handset runs, most preferred first, strongSwan-style (aes128gcm16, aes256gcm16, aes128-sha256; repeatable or comma-separated); default: aes128gcm16, aes256gcm16, aes128-sha256",
    AllowMultipleArgumentsPerToken = true,
};

var root = new RootCommand("Attach a KeyProxy handset to an edge, send datagrams through the proxy-negotiated SA and print what happens.")
{
    edge, nai, msisdn, secret, secretHex, protect, bypass, to, message, count, interval, sourcePort, seconds, esp,
};
root.SetAction(async (result, ct) =>
{
    SubscriberIdentity identity = (result.GetValue(nai), result.GetValue(msisdn)) switch
    {
        ({ } n, null) => new(IdentityType.Nai, n),
        (null, { } m) => new(IdentityType.Msisdn, m),
        _ => throw new ArgumentException("give exactly one of --nai and --msisdn"),
    };
    byte[] key = (result.GetValue(secret), result.GetValue(secretHex)) switch
    {
        ({ } s, null) => Encoding.UTF8.GetBytes(s),
        (null, { } h) => Convert.FromHexString(h),
        _ => throw new ArgumentException("give exactly one of --secret and --secret-hex"),
    };
    if (key.Length < SubscriberKeys.MinSecretLength)
        throw new ArgumentException($"the subscriber secret must be at least {SubscriberKeys.MinSecretLength} bytes");

    var policies = new List<SecurityPolicy>();
    foreach (var p in result.GetValue(protect) ?? []) policies.Add(new(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(p), "protect " + p));
    foreach (var p in result.GetValue(bypass) ?? []) policies.Add(new(PolicyAction.Bypass, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix(p), "bypass " + p));
    var config = new HandsetConfig { Identity = identity, Secret = key, Policies = policies };
    if (result.GetValue(esp) is { Length: > 0 } names)
    {
        var suites = new List<EspSuite>();
        foreach (var name in names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!SuiteNames.TryParseEsp(name, out var suite, out var error) || suite.DhGroup != DhGroup.None)
                throw new ArgumentException($"--esp {name}: {(suite is null ? error : "a handset's suite has no DH group")}");
            suites.Add(suite);
        }
        config = config with { Suites = suites };
    }

    await using var host = new UdpHandsetHost(config, IPEndPoint.Parse(result.GetValue(edge)!));
    // One reader of the event channel: it prints every event and signals attach and detach outcomes.
    var attachOutcome = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    var detached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    var printer = Task.Run(async () =>
    {
        await foreach (var e in host.Events.ReadAllAsync(CancellationToken.None))
        {
            Console.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {e}");
            if (e is Attached) attachOutcome.TrySetResult(true);
            else if (e is AttachFailed) attachOutcome.TrySetResult(false);
            else if (e is Detached) detached.TrySetResult();
        }
    }, CancellationToken.None);
    var receiver = Task.Run(async () =>
    {
        await foreach (var packet in host.Delivered.ReadAllAsync(CancellationToken.None)) Console.WriteLine($"{DateTime.Now:HH:mm:ss.fff} received {Describe(packet)}");
    }, CancellationToken.None);

    Console.WriteLine($"attaching to {result.GetValue(edge)} as {identity.Value} from {host.LocalEndPoint}");
    host.Attach();
    if (!await attachOutcome.Task.WaitAsync(TimeSpan.FromSeconds(60), ct))
    {
        Console.Error.WriteLine("attach failed");
        return 1;
    }

    if (result.GetValue(to) is { } target)
    {
        var destination = IPEndPoint.Parse(target);
        for (int i = 0; i < result.GetValue(count) && !ct.IsCancellationRequested; i++)
        {
            var text = $"{result.GetValue(message)} #{i + 1}";
            var packet = UdpPacket(host.Address!, (ushort)result.GetValue(sourcePort), destination, Encoding.UTF8.GetBytes(text));
            var sent = host.Send(packet);
            Console.WriteLine($"{DateTime.Now:HH:mm:ss.fff} send \"{text}\" to {destination}: {sent.Status}{(sent.Reason == HandsetDropReason.None ? "" : " (" + sent.Reason + ")")}");
            try { await Task.Delay(result.GetValue(interval), ct); } catch (OperationCanceledException) { }
        }
    }
    try { await Task.Delay(TimeSpan.FromSeconds(result.GetValue(seconds)), ct); } catch (OperationCanceledException) { }
    host.Detach();
    try { await detached.Task.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None); } catch (TimeoutException) { }
    Console.WriteLine($"counters: {host.Counters}");
    return 0;
});
return await root.Parse(args).InvokeAsync();

static byte[] UdpPacket(IPAddress source, ushort sourcePort, IPEndPoint destination, byte[] payload)
{
    var packet = new byte[UdpPacketWriter.HeaderSize(IpFamily.V6) + payload.Length];
    var error = UdpPacketWriter.TryWrite(packet, IpAddressValue.FromIPAddress(source), sourcePort,
        IpAddressValue.FromIPAddress(destination.Address), (ushort)destination.Port, payload, out int written);
    return error == PacketError.None ? packet[..written] : throw new ArgumentException($"cannot build a packet to {destination}: {error}");
}

static string Describe(byte[] packet)
{
    if (IpPacket.TryRead(packet, out var ip) != PacketError.None) return $"{packet.Length} bytes (not IP)";
    if (ip.Protocol == IpPacket.Udp && UdpDatagram.TryRead(ip, out var udp) == PacketError.None)
        return $"UDP {ip.Source}:{udp.SourcePort} -> {ip.Destination}:{udp.DestinationPort} \"{Encoding.UTF8.GetString(udp.Payload)}\"";
    return $"IP protocol {ip.Protocol} {ip.Source} -> {ip.Destination}, {packet.Length} bytes";
}
