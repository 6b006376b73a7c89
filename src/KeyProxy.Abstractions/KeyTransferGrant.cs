namespace KeyProxy.Abstractions;

/// <summary>
/// What a proxy session needs to seal its first key transfer itself (issue 17: no grain call to the subscriber for it):
/// the delivery key of the handset's attachment <see cref="TunnelId"/>, derived by the subscriber grain from the
/// subscriber secret and that attachment's nonces (the secret itself never leaves the subscriber grain), and one key
/// transfer counter the subscriber reserved for it (written to storage before it is handed out, so never used twice).
/// Key material: never printed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record KeyTransferGrant(
    [property: Id(0)] uint TunnelId,
    [property: Id(1)] byte[] DeliveryKey,
    [property: Id(2)] ulong Counter)
{
    /// <summary>
    /// An INITIAL_CONTACT from the peer (RFC 7296 2.4) must still reach the subscriber: it lists other sessions with
    /// this peer, or may not know all of its sessions yet (reactivated within the last lease periods). Then the install
    /// that carries it is sealed by the subscriber, which closes the sessions it makes stale.
    /// </summary>
    [Id(3)] public bool ReportInitialContact { get; init; }

    public override string ToString() => $"KeyTransferGrant {{ TunnelId = {TunnelId}, Counter = {Counter}, DeliveryKey = (redacted) }}";
}
