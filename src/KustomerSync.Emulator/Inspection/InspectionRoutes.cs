using KustomerSync.Emulator.Hosting;

namespace KustomerSync.Emulator.Inspection;

public static class InspectionRoutes
{
    public static void Map(IEndpointRouteBuilder app, EmulatorServices s) { }
}
