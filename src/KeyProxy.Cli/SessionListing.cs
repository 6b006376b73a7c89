namespace KeyProxy.Cli;

/// <summary>
/// Proxy sessions in the shape of <c>swanctl --list-sas</c>: one block per IKE SA (subscriber, session, state, SPIs with
/// <c>*</c> on the proxy's side), the local (handset) and remote (peer) addresses, the suite, the age; then each CHILD_SA
/// with its mode, ESP suite, age and SPIs as the handset uses them (<c>in</c>: the SPI it receives with). The proxy does not
/// see ESP per SA, so unlike swanctl there are no byte or packet counts.
/// </summary>
public static class SessionListing
{
    public static void Write(TextWriter output, IReadOnlyList<Session> sessions, IReadOnlyDictionary<string, string> handsetAddresses, DateTimeOffset now)
    {
        if (sessions.Count == 0)
        {
            output.WriteLine("no proxy sessions");
            return;
        }
        foreach (var s in sessions)
        {
            var spis = s.IkeSpis.Split('/');
            var (i, r) = spis.Length == 2 ? (spis[0], spis[1]) : (s.IkeSpis, "");
            var initiator = s.Role.Contains("initiator", StringComparison.Ordinal);
            output.WriteLine($"{s.Nai}: {s.SessionId}, {Or(s.IkeState, "ESTABLISHED")}, IKEv2, {i}_i{(initiator ? "*" : "")} {r}_r{(initiator ? "" : "*")}");
            var local = handsetAddresses.TryGetValue(s.Nai, out var address) ? address : "(detached)";
            output.WriteLine($"  local  '{s.Nai}' @ {local} (edge {s.EdgeId}, proxy as {s.Role})");
            output.WriteLine($"  remote {s.PeerAddress}");
            if (!string.IsNullOrEmpty(s.IkeSuite)) output.WriteLine($"  {s.IkeSuite}");
            output.WriteLine($"  established {Ages.Ago(s.Established ?? s.Since, now)}");
            foreach (var c in s.ChildSas ?? [])
            {
                output.WriteLine($"  child: INSTALLED, {c.Mode}, ESP:{c.Suite}");
                output.WriteLine($"    installed {Ages.Ago(c.Established, now)}");
                output.WriteLine($"    in  {c.InboundSpi}");
                output.WriteLine($"    out {c.OutboundSpi}");
            }
        }
    }

    private static string Or(string? value, string fallback) => string.IsNullOrEmpty(value) ? fallback : value;
}
