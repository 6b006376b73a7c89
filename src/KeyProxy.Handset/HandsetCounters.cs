namespace KeyProxy.Handset;

/// <summary>What the handset did with packets and messages; every drop has its reason.</summary>
public sealed class HandsetCounters
{
    internal long sent, bypassed, delivered, held, released;
    internal long droppedNotAttached, droppedMalformed, droppedWrongSource, droppedPolicy, droppedQueueFull, droppedHoldExpired;
    internal long droppedRefused, droppedEncrypt, droppedDecrypt, droppedNoSa, droppedUnprotected, droppedNotForUs, droppedIke;
    internal long sasInstalled, saDeletes, proxyFailures, keyTransfersRejected, keyTransfersReplayed, proxyRequests, controlIgnored;

    public long Sent => Volatile.Read(ref sent);
    public long Bypassed => Volatile.Read(ref bypassed);
    public long Delivered => Volatile.Read(ref delivered);
    public long Held => Volatile.Read(ref held);
    public long Released => Volatile.Read(ref released);
    public long DroppedNotAttached => Volatile.Read(ref droppedNotAttached);
    public long DroppedMalformed => Volatile.Read(ref droppedMalformed);
    public long DroppedWrongSource => Volatile.Read(ref droppedWrongSource);
    public long DroppedByPolicy => Volatile.Read(ref droppedPolicy);
    public long DroppedQueueFull => Volatile.Read(ref droppedQueueFull);
    public long DroppedHoldExpired => Volatile.Read(ref droppedHoldExpired);
    public long DroppedRefused => Volatile.Read(ref droppedRefused);
    public long DroppedEncrypt => Volatile.Read(ref droppedEncrypt);
    public long DroppedDecrypt => Volatile.Read(ref droppedDecrypt);
    public long DroppedNoSa => Volatile.Read(ref droppedNoSa);
    public long DroppedUnprotected => Volatile.Read(ref droppedUnprotected);
    public long DroppedNotForUs => Volatile.Read(ref droppedNotForUs);
    public long DroppedIke => Volatile.Read(ref droppedIke);
    /// <summary>Key transfers that installed an SA pair (new or rekey).</summary>
    public long SasInstalled => Volatile.Read(ref sasInstalled);

    /// <summary>Key transfers that deleted SA pairs.</summary>
    public long SaDeletes => Volatile.Read(ref saDeletes);

    /// <summary>Key transfers that refused a proxy request (the network could not negotiate the SA).</summary>
    public long ProxyFailures => Volatile.Read(ref proxyFailures);

    /// <summary>Key transfers that did not open, or opened but could not be used.</summary>
    public long KeyTransfersRejected => Volatile.Read(ref keyTransfersRejected);
    public long KeyTransfersReplayed => Volatile.Read(ref keyTransfersReplayed);
    public long ProxyRequests => Volatile.Read(ref proxyRequests);
    public long ControlIgnored => Volatile.Read(ref controlIgnored);

    public override string ToString() =>
        $"sent {Sent}, bypassed {Bypassed}, delivered {Delivered}, held {Held}, released {Released}, proxy requests {ProxyRequests}, " +
        $"key transfers: {SasInstalled} installed, {SaDeletes} deletes, {ProxyFailures} refusals, {KeyTransfersRejected} rejected, {KeyTransfersReplayed} replayed; drops: " +
        $"not attached {DroppedNotAttached}, malformed {DroppedMalformed}, wrong source {DroppedWrongSource}, policy {DroppedByPolicy}, " +
        $"queue full {DroppedQueueFull}, hold expired {DroppedHoldExpired}, refused {DroppedRefused}, encrypt {DroppedEncrypt}, " +
        $"decrypt {DroppedDecrypt}, no SA {DroppedNoSa}, unprotected {DroppedUnprotected}, not for us {DroppedNotForUs}, IKE {DroppedIke}";
}
