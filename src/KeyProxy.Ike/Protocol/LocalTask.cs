namespace KeyProxy.Ike.Protocol;

internal enum LocalTaskKind
{
    CreateChildSa,
    RekeyChildSa,
    DeleteChildSa,
    RekeyIkeSa,
    Liveness,
    DeleteIkeSa,
}

/// <summary>An exchange this node wants to start once the window is free (RFC 7296 2.3).</summary>
internal readonly record struct LocalTask(LocalTaskKind Kind, uint Spi = 0);
