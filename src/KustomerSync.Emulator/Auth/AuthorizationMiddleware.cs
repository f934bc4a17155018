using KustomerSync.Emulator.Http;

namespace KustomerSync.Emulator.Auth;

/// <summary>403 when the key holds none of the route's roles (<see cref="RouteRoles"/> metadata).</summary>
public sealed class AuthorizationMiddleware
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
            throw new ApiException(403, "forbidden", "Forbidden",
                $"The API key lacks a role for {context.Request.Method} {context.Request.Path}; needs one of: {string.Join(", ", resolved)}");
        return next(context);
    }
}
