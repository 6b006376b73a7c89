using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Silo.Tests;

/// <summary>TCP ports the kernel just handed out on loopback, so parallel silos do not collide.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
