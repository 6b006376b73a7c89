using Microsoft.AspNetCore.Authorization;

namespace KeyProxy.Silo.Security;

/// <summary>
/// The admin listener's fallback authorization (every endpoint without its own, so also the dashboard, /metrics and any
/// unknown path): the token's roles must include the one the request's method needs (<see cref="AdminRoles.PolicyFor"/>):
/// read for GET/HEAD, provision for PUT, DELETE, POST and the rest. With <see cref="AdminAuthOptions.AnonymousMetrics"/>
/// the Prometheus path needs no token. Unauthenticated: 401 (challenge); authenticated without the role: 403 (forbid).
/// </summary>
public sealed class AdminMethodRequirement : IAuthorizationRequirement
{
    /// <summary>The role a request with <paramref name="method"/> needs.</summary>
    public static string RoleFor(string method) => AdminRoles.PolicyFor(method) == AdminRoles.ReadPolicy ? AdminRoles.Read : AdminRoles.Provision;
}

/// <summary>Decides <see cref="AdminMethodRequirement"/> for the request in the authorization context.</summary>
public sealed class AdminMethodHandler(AdminAuthMaterial material, string? metricsPath) : AuthorizationHandler<AdminMethodRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminMethodRequirement requirement)
    {
        if (context.Resource is not HttpContext http) return Task.CompletedTask;
        if (material.Options.AnonymousMetrics && metricsPath is not null && HttpMethods.IsGet(http.Request.Method)
            && http.Request.Path.Equals(metricsPath, StringComparison.OrdinalIgnoreCase))
        {
            context.Succeed(requirement);
        }
        else if (context.User.Identity?.IsAuthenticated == true && context.User.IsInRole(AdminMethodRequirement.RoleFor(http.Request.Method)))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
