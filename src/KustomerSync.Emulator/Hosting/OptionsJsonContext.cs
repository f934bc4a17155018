using System.Text.Json.Serialization;

namespace KustomerSync.Emulator.Hosting;

/// <summary>Source-generated JSON for <see cref="EmulatorOptions"/> (GET/PUT /_emulator/options).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EmulatorOptions))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;
