using KustomerSync.Emulator.Hosting;
using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Auth;

/// <summary>
/// The key must hold one of the route's roles (<see cref="RouteRoles"/> metadata). Otherwise 403 (DEV), or 401
/// when <see cref="EmulatorOptions.MissingRoleStatus"/> asks for the OLD docs' answer; the body says a role is missing.
/// </summary>
public sealed class AuthorizationMiddleware(LiveOptions options)
{
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.IsApiPath()) return next(context);
        var endpoint = context.GetEndpoint();
        var required = endpoint?.Metadata.GetMetadata<RouteRoles>();
        if (required is null || required.Roles.Count == 0) return next(context);

        var resolved = required.Resolve(context.Request.RouteValues).ToArray();
        var key = context.ApiKey();
        if (!Roles.AnySatisfied(key.Roles.ToArray(), resolved))
        {
            var detail = $"Missing role: the API key lacks a role (permission) for {context.Request.Method} {context.Request.Path}; needs one of: {string.Join(", ", resolved)}";
            throw options.Current.MissingRoleStatus == 401
                ? new ApiException(401, "unauthorized", "Unauthorized", detail)
                : new ApiException(403, "forbidden", "Forbidden", detail);
        }
        return next(context);
    }
}
