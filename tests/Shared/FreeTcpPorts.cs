using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Testing;

/// <summary>
/// Free loopback TCP ports for silos under test (SiloPort, GatewayPort, an OTLP or Prometheus listener). The kernel may
/// offer a just-closed listener's port again, and two calls in a row once gave a silo the same SiloPort and GatewayPort
/// (it refused to start): a port is never handed out twice in one test process.
/// </summary>
public static class FreeTcpPorts
{
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
                if (HandedOut.Add(port)) return port;
        }
    }
}
