using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Routes;

public static class MetadataRoutes
{
    public static void Map(IEndpointRouteBuilder v1, EmulatorServices s) { }
}
