namespace KeyProxy.Ike.Messages;

/// <summary>Thrown by the throwing variants of <see cref="IkeCodec"/> (e.g. <see cref="IkeCodec.Decode"/>).</summary>
public sealed class IkeParseException(IkeParseError error) : Exception(error.ToString())
{
    public IkeParseError Error { get; } = error;
}
