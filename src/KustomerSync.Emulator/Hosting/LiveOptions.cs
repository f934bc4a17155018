namespace KustomerSync.Emulator.Hosting;

/// <summary>
/// The options an instance runs with. Readers take <see cref="Current"/> (an immutable-by-convention
/// snapshot); <c>PUT /_emulator/options</c> swaps in a modified copy atomically.
/// </summary>
public sealed class LiveOptions(EmulatorOptions initial)
{
    private volatile EmulatorOptions _current = initial.Clone();

    public EmulatorOptions Current => _current;

    public void Update(Action<EmulatorOptions> change)
    {
        lock (this)
        {
            var next = _current.Clone();
            change(next);
            next.Validate();
            _current = next;
        }
    }
}
