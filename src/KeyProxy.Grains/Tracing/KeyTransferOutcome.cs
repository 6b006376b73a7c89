namespace KeyProxy.Grains.Tracing;

/// <summary>What became of a key transfer: the key transfer span's result and the undelivered metric's <c>error.type</c>.</summary>
internal static class KeyTransferOutcome
{
    /// <summary>Sealed and handed to the handset's edge, which delivers it (its own span says whether it could).</summary>
    public const string Sealed = "sealed";
    public const string EncodeFailed = "encode_failed";
    public const string SealFailed = "seal_failed";
    public const string NotAttached = "not_attached";
}
