using System.Net.Sockets;
using System.Text;

namespace KeyProxy.Load.Baselines;

/// <summary>What one load-tester initiation came to.</summary>
public enum LoadTesterOutcome { Established, Failed, NotInitiated, Closed }

/// <summary>
/// The load-tester plugin's control socket (its <c>load_tester_control.c</c>): a client writes <c>"COUNT DELAY\n"</c>;
/// the plugin initiates COUNT IKE SAs of its "load-test" config and writes '.' per initiation started ('!' when it
/// could not start one), '*' per retransmission, '+' when one reaches IKE_ESTABLISHED (its CHILD_SA comes from the
/// same IKE_AUTH) or '-' when it is destroyed first, and a newline when all are done.
/// </summary>
public static class LoadTesterControl
{
    /// <summary>
    /// One IKE SA over its own connection: so its latency is exact (request to '+'). The plugin listens with a
    /// backlog of 10, so a connect refused with EAGAIN is retried (the wait counts in the latency).
    /// </summary>
    public static async Task<(LoadTesterOutcome Outcome, int Retransmits)> InitiateOneAsync(string socketPath, CancellationToken ct)
    {
        using var socket = await ConnectAsync(socketPath, ct);
        await socket.SendAsync("1 0\n"u8.ToArray(), SocketFlags.None, ct);
        var buffer = new byte[64];
        var seen = new StringBuilder();
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) return (Classify(seen.ToString()) ?? LoadTesterOutcome.Closed, Count(seen, '*'));
            seen.Append(Encoding.ASCII.GetString(buffer, 0, n));
            if (seen[^1] == '\n') return (Classify(seen.ToString()) ?? LoadTesterOutcome.Closed, Count(seen, '*'));
        }
    }

    private static async Task<Socket> ConnectAsync(string socketPath, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TryAgain or SocketError.WouldBlock && DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(1, ct);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>The outcome of a one-SA progress string (e.g. ".**+\n"), null while it has none yet.</summary>
    public static LoadTesterOutcome? Classify(string progress) =>
        progress.Contains('+') ? LoadTesterOutcome.Established
        : progress.Contains('-') ? LoadTesterOutcome.Failed
        : progress.Contains('!') ? LoadTesterOutcome.NotInitiated
        : null;

    private static int Count(StringBuilder s, char c)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++) if (s[i] == c) n++;
        return n;
    }
}
