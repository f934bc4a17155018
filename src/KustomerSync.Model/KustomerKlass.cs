namespace KustomerSync;

/// <summary>A klass (custom object type) of the org, as Get-KustomerSchema -Klasses lists it.</summary>
public sealed class KustomerKlass
{
    /// <summary>The destination the klass was read from.</summary>
    public string? Destination { get; set; }

    /// <summary>The klass's system name, used in paths (order, ecomm-order).</summary>
    public string Name { get; set; } = "";

    public string? DisplayName { get; set; }

    /// <summary>enabled, disabled or existing_only.</summary>
    public string? Status { get; set; }

    /// <summary>What -Object takes for this klass: kobject.&lt;name&gt;.</summary>
    public string Object { get; set; } = "";

    /// <summary>The klass's id (Klass CRUD addresses it by id; KObject routes by name).</summary>
    public string? Id { get; set; }

    public string? Icon { get; set; }
    public string? Color { get; set; }
    public string? Description { get; set; }
    public DateTime? CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }

    public override string ToString() => Object;
}
