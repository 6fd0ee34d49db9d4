using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace ExoBackup;

/// <summary>
/// Loads ExoBackup.Engine and every driver from Dependencies/ into a private load context, so
/// that Microsoft.Data.SqlClient finds its runtimes/&lt;os&gt; implementation and other modules in the
/// session (SqlServer, dbatools, Az, another Npgsql) cannot clash with our versions.
/// Only the name ExoBackup.Engine is served from the default context's Resolving event; the
/// engine's own references are resolved inside the private context.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string EngineName = "ExoBackup.Engine";

    static readonly string DependencyDir =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "Dependencies");

    static readonly Lazy<DependencyLoadContext> Context = new(() => new DependencyLoadContext(DependencyDir));

    public void OnImport()
    {
        AssemblyLoadContext.Default.Resolving += ResolveEngine;
        Harden();
    }

    // Not inlined: the engine's types may be resolved only once the line above has hooked the resolver.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static void Harden() => Engine.Tools.ProcessHardening.Apply();

    public void OnRemove(PSModuleInfo module) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineName && File.Exists(Path.Combine(DependencyDir, EngineName + ".dll"))
            ? Context.Value.LoadFromAssemblyName(name)
            : null;
}

/// <summary>Resolves assemblies and native libraries the way the engine's deps.json says, from Dependencies/.</summary>
sealed class DependencyLoadContext : AssemblyLoadContext
{
    readonly AssemblyDependencyResolver _resolver;

    public DependencyLoadContext(string dependencyDir) : base("ExoBackup", isCollectible: false)
    {
        _resolver = new AssemblyDependencyResolver(Path.Combine(dependencyDir, ModuleInitializer.EngineName + ".dll"));
    }

    // Returning null lets the default context serve the framework and PowerShell itself.
    protected override Assembly? Load(AssemblyName name)
    {
        var path = _resolver.ResolveAssemblyToPath(name);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string name)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(name);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
