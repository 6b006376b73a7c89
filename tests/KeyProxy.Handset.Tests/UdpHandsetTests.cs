using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Handset.Cli;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Handset.Tests;

/// <summary>
/// The handset on a real UDP socket (<see cref="UdpHandsetHost"/>, and the keyproxy-handset CLI as
/// a process) against the fake edge behind a real UDP socket on loopback.
/// </summary>
public sealed class UdpHandsetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The fake edge served on 127.0.0.1:ephemeral.</summary>
    private sealed class UdpFakeEdge : IAsyncDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public UdpFakeEdge()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _loop = Task.Run(async () =>
            {
                var buffer = new byte[65536];
                while (!_stop.IsCancellationRequested)
                {
                    SocketReceiveFromResult r;
                    try { r = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token); }
                    catch (Exception) { return; }
                    IReadOnlyList<byte[]> replies;
                    lock (Edge) replies = Edge.Handle(buffer[..r.ReceivedBytes], DateTimeOffset.UtcNow);
                    foreach (var reply in replies) await _socket.SendToAsync(reply, SocketFlags.None, r.RemoteEndPoint);
                }
            });
        }

        public FakeEdge Edge { get; } = new(HandsetRig.Identity, HandsetRig.Secret, HandsetRig.HandsetAddress);

        public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _socket.Dispose();
            await _loop;
            Edge.Dispose();
        }
    }

    [Fact]
    public async Task Host_attaches_gets_an_sa_and_delivers_the_echo()
    {
        await using var edge = new UdpFakeEdge();
        var config = new HandsetConfig
        {
            Identity = HandsetRig.Identity,
            Secret = HandsetRig.Secret,
            Policies = [new SecurityPolicy(PolicyAction.Protect, Selectors.Any(AddressFamily.InterNetwork), Selectors.Prefix("198.51.100.0/24"))],
        };
        await using var host = new UdpHandsetHost(config, edge.EndPoint);
        host.Attach();
        var attached = await host.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(HandsetRig.HandsetAddress, attached.Address);

        var packet = HandsetRig.Udp(HandsetRig.HandsetAddress, HandsetRig.Peer, "over real UDP");
        Assert.Equal(HandsetPacketStatus.Held, host.Send(packet).Status);
        await host.WaitForAsync<SaInstalled>(TimeSpan.FromSeconds(10), Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal(FakeEdge.Reverse(packet), await host.Delivered.ReadAsync(timeout.Token));

        Assert.Equal(HandsetPacketStatus.Ok, host.Send(packet).Status);
        Assert.Equal(FakeEdge.Reverse(packet), await host.Delivered.ReadAsync(timeout.Token));
        host.Detach();
        Assert.True((await host.WaitForAsync<Detached>(TimeSpan.FromSeconds(10), Ct)).Acknowledged);
    }

    [Fact]
    public async Task Cli_prints_the_attach_the_sa_and_the_replies()
    {
        await using var edge = new UdpFakeEdge();
        var cli = Path.Combine(AppContext.BaseDirectory, "keyproxy-handset.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { cli, "--edge", edge.EndPoint.ToString(), "--nai", HandsetRig.Identity.Value, "--secret", Encoding.ASCII.GetString(HandsetRig.Secret),
                     "--protect", "198.51.100.0/24", "--to", $"{HandsetRig.Peer}:7", "--count", "2", "--interval-ms", "200", "--seconds", "1" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("Attached {", output);
        Assert.Contains("SaInstalled {", output);
        Assert.Contains($"received UDP {HandsetRig.Peer}:7 -> {HandsetRig.HandsetAddress}:40000 \"hello from keyproxy-handset #1\"", output);
        Assert.Contains("\"hello from keyproxy-handset #2\"", output);
        Assert.Contains("Detached { Acknowledged = True }", output);
        Assert.Equal(2, edge.Edge.PeerReceived.Count);
    }

    [Fact]
    public async Task Cli_reports_a_rejected_attach_with_exit_code_1()
    {
        await using var edge = new UdpFakeEdge();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "keyproxy-handset.dll"), "--edge", edge.EndPoint.ToString(),
                     "--nai", HandsetRig.Identity.Value, "--secret", "not the provisioned secret" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        var output = await stdout + await stderr;
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("AuthenticationFailed", output);
        Assert.Contains("attach failed", output);
    }
}
