using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;

namespace KeyProxy.Silo.Security;

/// <summary>
/// The dashboard's sign-in for browsers, which cannot send a bearer header (issue 16 item 1): GET <see cref="LoginPath"/>
/// is a form for the admin token; POST checks the token as the API would (read role needed) and sets it in an HttpOnly,
/// Secure, SameSite=Strict cookie for <see cref="DashboardPath"/> only, expiring with the token, then redirects (303) to the
/// dashboard. The page also takes the token from its URL fragment (<c>#token=...</c>), which browsers never send to the
/// server, so it stays out of access logs. A refused token is counted and logged as the API's are.
/// </summary>
public static class DashboardLogin
{
    public const string LoginPath = "/auth/login";
    public const string DashboardPath = "/dashboard";
    public const string CookieName = "keyproxy_admin_token";

    public static void MapDashboardLogin(this WebApplication app)
    {
        app.MapGet(LoginPath, () => Results.Content(Page, "text/html; charset=utf-8")).AllowAnonymous();
        app.MapPost(LoginPath, SignIn).AllowAnonymous();
    }

    private static async Task<IResult> SignIn(HttpContext http, AdminAuthMaterial material, AdminAuthRefusals refusals, ILoggerFactory logs)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        var token = form?["token"].ToString().Trim() ?? "";
        var then = form?["then"].ToString() is { } t && t.StartsWith(DashboardPath + "/", StringComparison.Ordinal) && !t.Contains("//", StringComparison.Ordinal) ? t : DashboardPath + "/";
        var result = token.Length == 0 ? null : await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, material.ValidationParameters());
        var reason = result is null ? AdminAuthRefusals.Missing
            : !result.IsValid ? AdminAuthSetup.Reason(result.Exception)
            : !result.ClaimsIdentity.HasClaim(material.Options.RoleClaim, AdminRoles.Read) ? AdminAuthRefusals.WrongRole : null;
        if (reason is not null)
        {
            var status = reason == AdminAuthRefusals.WrongRole ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
            refusals.Add(reason, status);
            AdminAuthLog.Unauthenticated(logs.CreateLogger(typeof(DashboardLogin)), "POST", LoginPath, status, reason, http.Connection.RemoteIpAddress?.ToString());
            return Results.Content($"<!doctype html><title>KeyProxy</title><p>Token refused ({reason}). <a href=\"{LoginPath}\">Try again</a>.</p>",
                "text/html; charset=utf-8", statusCode: status);
        }

        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = DashboardPath,
            Expires = result!.SecurityToken.ValidTo,
        });
        http.Response.Headers.Location = then;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static readonly string Page = $$"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>KeyProxy: sign in</title></head>
        <body>
        <h1>KeyProxy dashboard</h1>
        <form method="post" action="{{LoginPath}}">
          <p><label>Admin token (read role): <input type="password" name="token" size="60" autocomplete="off"></label></p>
          <input type="hidden" name="then" value="{{DashboardPath}}/">
          <p><button type="submit">Sign in</button></p>
        </form>
        <script>
          // #token=...&then=/dashboard/...: the fragment never reaches the server; it is removed from the history at once.
          const hash = new URLSearchParams(location.hash.slice(1));
          if (hash.get('token')) {
            history.replaceState(null, '', location.pathname);
            const form = document.forms[0];
            form.token.value = hash.get('token');
            if (hash.get('then')) form.then.value = hash.get('then');
            form.submit();
          }
        </script>
        </body></html>
        """;
}
