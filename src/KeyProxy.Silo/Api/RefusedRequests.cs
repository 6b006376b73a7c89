namespace KeyProxy.Silo.Api;

/// <summary>
/// HTTP requests the silo refused before any handler could act on them, by cause: counted and logged as one warning
/// each, without a stack trace (a client can send as many as it likes; they are not the silo's errors).
/// </summary>
public sealed class RefusedRequests
{
    private long _bodyTooLarge, _unsupportedMediaType, _badHttpRequest;

    /// <summary>413: the body is above the limit of its route (<see cref="AdminApi.MaxProfileBodyBytes"/> for profiles).</summary>
    public long BodyTooLarge => Volatile.Read(ref _bodyTooLarge);

    /// <summary>415: a body that is not <c>application/json</c>.</summary>
    public long UnsupportedMediaType => Volatile.Read(ref _unsupportedMediaType);

    /// <summary>Any other request Kestrel found malformed (truncated body, bad framing).</summary>
    public long BadHttpRequest => Volatile.Read(ref _badHttpRequest);

    public void Count(int status)
    {
        switch (status)
        {
            case StatusCodes.Status413PayloadTooLarge: Interlocked.Increment(ref _bodyTooLarge); break;
            case StatusCodes.Status415UnsupportedMediaType: Interlocked.Increment(ref _unsupportedMediaType); break;
            default: Interlocked.Increment(ref _badHttpRequest); break;
        }
    }
}
