namespace KustomerSync.Emulator.Store;

/// <summary>A custom object type. Paths address it by <see cref="Name"/>; klass CRUD by <see cref="Id"/>.</summary>
public sealed class Klass
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public string? DisplayName { get; set; }
    public string? Icon { get; set; }
    public string? Color { get; set; }
    public string? Description { get; set; }
    public string Status { get; set; } = "enabled";
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}
