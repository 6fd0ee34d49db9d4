namespace ExoBackup;

/// <summary>
/// The module's enums mirror the engine's: the engine loads in a private context (ModuleInitializer),
/// so its types are not the cmdlets' parameter and output types. Values cross by name, never by number:
/// a mirror that drifts fails at its first use, and tests/Module.Tests.ps1 compares every pair.
/// </summary>
internal static class Mirror
{
    public static TTo To<TTo>(Enum value) where TTo : struct, Enum =>
        Enum.TryParse<TTo>(value.ToString(), ignoreCase: false, out var v) && Enum.IsDefined(v)
            ? v
            : throw new InvalidOperationException($"{value.GetType().Name}.{value} has no counterpart in {typeof(TTo).FullName}: the module and the engine disagree.");
}
