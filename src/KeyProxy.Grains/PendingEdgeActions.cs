using KeyProxy.Abstractions;

namespace KeyProxy.Grains;

/// <summary>What a proxy session's current turn has the handset's edge do, collected until the turn hands it over (<see cref="EdgeActions"/>).</summary>
internal sealed class PendingEdgeActions
{
    public List<ulong> Routes { get; } = [];

    public List<IkeDatagram> Datagrams { get; } = [];

    public List<SealedKeyTransfer> KeyTransfers { get; } = [];

    public bool ResetRoutes { get; set; }

    public bool Established { get; set; }

    public bool Ended { get; set; }

    public SessionRefusal? Refusal { get; set; }

    public bool IsEmpty => Routes.Count == 0 && Datagrams.Count == 0 && KeyTransfers.Count == 0 && !ResetRoutes && !Established && !Ended && Refusal is null;

    /// <summary>The collected actions for the edge of <paramref name="handsetAddress"/>, and a clean slate for the next turn.</summary>
    public EdgeActions Take(string handsetAddress)
    {
        if (IsEmpty) return EdgeActions.None;
        var actions = new EdgeActions(handsetAddress, [.. Routes], [.. Datagrams], [.. KeyTransfers])
        {
            ResetRoutes = ResetRoutes,
            Established = Established,
            Ended = Ended,
            Refusal = Refusal,
        };
        Clear();
        return actions;
    }

    public void Clear()
    {
        Routes.Clear();
        Datagrams.Clear();
        KeyTransfers.Clear();
        (ResetRoutes, Established, Ended, Refusal) = (false, false, false, null);
    }
}
