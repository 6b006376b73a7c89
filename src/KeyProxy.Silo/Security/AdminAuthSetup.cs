using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.Tokens;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Bearer JWT authentication (RFC 6750) and the role rules (<see cref="AdminMethodRequirement"/>) on the admin API, the
/// dashboard and /metrics (issue 16 item 1). Refusals are counted (<see cref="AdminAuthRefusals"/>) and logged without the
/// token (<see cref="AdminAuthLog"/>). Browsers reach the dashboard with the token in an HttpOnly cookie set by
/// <see cref="DashboardLogin"/>; it is read for /dashboard paths only.
/// </summary>
public static class AdminAuthSetup
{
    private const string ReasonItem = "keyproxy.auth.refusal";

    /// <summary>Registers the refusal counter always, and the authentication and authorization when <paramref name="material"/> is not null.</summary>
    public static void AddKeyProxyAdminAuth(this WebApplicationBuilder builder, AdminAuthMaterial? material, string? metricsPath)
    {
        builder.Services.AddSingleton<AdminAuthRefusals>();
        if (material is null) return;
        builder.Services.AddSingleton(material);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = material.ValidationParameters();
            o.IncludeErrorDetails = false;
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = ReadDashboardCookie,
                OnAuthenticationFailed = c =>
                {
                    c.HttpContext.Items[ReasonItem] = Reason(c.Exception);
                    return Task.CompletedTask;
                },
                OnChallenge = Challenged,
                OnForbidden = Forbidden,
            };
        });
        builder.Services.AddSingleton<IAuthorizationHandler>(new AdminMethodHandler(material, metricsPath));
        builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().AddRequirements(new AdminMethodRequirement()).Build());
    }

    /// <summary>Authentication and authorization in the pipeline, and the dashboard's sign-in page, when tokens are on.</summary>
    public static void UseKeyProxyAdminAuth(this WebApplication app)
    {
        if (app.Services.GetService<AdminAuthMaterial>() is null) return;
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapDashboardLogin();
    }

    private static Task ReadDashboardCookie(MessageReceivedContext context)
    {
        var request = context.Request;
        if (!request.Headers.ContainsKey("Authorization") && request.Path.StartsWithSegments(DashboardLogin.DashboardPath)
            && request.Cookies.TryGetValue(DashboardLogin.CookieName, out var token))
        {
            context.Token = token;
        }

        return Task.CompletedTask;
    }

    private static async Task Challenged(JwtBearerChallengeContext context)
    {
        var http = context.HttpContext;
        var reason = http.Items[ReasonItem] as string ?? (context.AuthenticateFailure is { } failure ? Reason(failure) : AdminAuthRefusals.Missing);
        http.RequestServices.GetRequiredService<AdminAuthRefusals>().Add(reason, StatusCodes.Status401Unauthorized);
        AdminAuthLog.Unauthenticated(Logger(http), http.Request.Method, http.Request.Path.Value ?? "", StatusCodes.Status401Unauthorized, reason,
            http.Connection.RemoteIpAddress?.ToString());
        if (!http.Request.Path.StartsWithSegments(DashboardLogin.DashboardPath)) return;
        // A browser on the dashboard: the 401 says where to sign in.
        context.HandleResponse();
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        http.Response.Headers.WWWAuthenticate = "Bearer";
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync($"<!doctype html><title>KeyProxy</title><p>The dashboard needs an admin token: <a href=\"{DashboardLogin.LoginPath}\">sign in</a>.</p>");
    }

    private static Task Forbidden(ForbiddenContext context)
    {
        var http = context.HttpContext;
        http.RequestServices.GetRequiredService<AdminAuthRefusals>().Add(AdminAuthRefusals.WrongRole, StatusCodes.Status403Forbidden);
        AdminAuthLog.Forbidden(Logger(http), http.Request.Method, http.Request.Path.Value ?? "", StatusCodes.Status403Forbidden, AdminAuthRefusals.WrongRole,
            http.User.Identity?.Name, AdminMethodRequirement.RoleFor(http.Request.Method), http.Connection.RemoteIpAddress?.ToString());
        return Task.CompletedTask;
    }

    /// <summary>The refusal reason of a validation failure, by exception type (its message is not logged).</summary>
    internal static string Reason(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => AdminAuthRefusals.Expired,
        SecurityTokenNotYetValidException => AdminAuthRefusals.NotYetValid,
        SecurityTokenInvalidAudienceException => AdminAuthRefusals.WrongAudience,
        SecurityTokenInvalidIssuerException => AdminAuthRefusals.WrongIssuer,
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => AdminAuthRefusals.BadSignature,
        _ => AdminAuthRefusals.Malformed,
    };

    private static ILogger Logger(HttpContext http) => http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminAuthSetup));
}
