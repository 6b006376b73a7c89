namespace KeyProxy.Silo.Security;

/// <summary>Log lines of refused admin requests: method, path, status, reason and the token's subject; never the token.</summary>
internal static partial class AdminAuthLog
{
    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Admin request refused: {Method} {Path} {Status} ({Reason}) from {Remote}")]
    public static partial void Unauthenticated(ILogger logger, string method, string path, int status, string reason, string? remote);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Admin request refused: {Method} {Path} {Status} ({Reason}: '{Subject}' lacks role {Role}) from {Remote}")]
    public static partial void Forbidden(ILogger logger, string method, string path, int status, string reason, string? subject, string role, string? remote);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "Admin listener: a connection from {Remote} carried no HTTPS request ({Reason}: TLS handshake failed or no request)")]
    public static partial void TlsFailed(ILogger logger, string? remote, string reason);
}
