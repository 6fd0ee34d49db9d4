using System.Reflection;
using System.Runtime.Loader;

namespace ExoBackup.Engine.Databases;

/// <summary>One database driver as this module loads it.</summary>
public sealed record DriverStatus(string Name, string Assembly, string Version, string Location, string LoadContext, bool Loaded, string? Error);

/// <summary>
/// Constructs each driver's connection object (no connection is opened) so that a load problem
/// (the SqlClient platform stub, a version clash with another module) shows up at once, with the
/// file each driver was loaded from.
/// </summary>
public static class DriverInventory
{
    public static IReadOnlyList<DriverStatus> Probe() =>
    [
        Try("SQL Server", () => new Microsoft.Data.SqlClient.SqlConnection("Server=localhost;Encrypt=false")),
        Try("PostgreSQL", () => new Npgsql.NpgsqlConnection("Host=localhost")),
        Try("MySQL/MariaDB", () => new MySqlConnector.MySqlConnection("Server=localhost")),
        Try("MongoDB", () => new MongoDB.Driver.MongoClient(new MongoDB.Driver.MongoClientSettings
        {
            Server = new MongoDB.Driver.MongoServerAddress("localhost", 27017),
            ServerSelectionTimeout = TimeSpan.FromSeconds(1),
        })),
    ];

    static DriverStatus Try(string name, Func<object> create)
    {
        try
        {
            var obj = create();
            var asm = obj.GetType().Assembly;
            (obj as IDisposable)?.Dispose();
            return Describe(name, asm, null);
        }
        catch (Exception e)
        {
            var inner = e is TargetInvocationException or TypeInitializationException ? e.InnerException ?? e : e;
            return new DriverStatus(name, "", "", "", "", false, $"{inner.GetType().Name}: {inner.Message}");
        }
    }

    static DriverStatus Describe(string name, Assembly asm, string? error)
    {
        var version = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? asm.GetName().Version?.ToString() ?? "";
        var plus = version.IndexOf('+');
        if (plus > 0) version = version[..plus];
        return new DriverStatus(name, asm.GetName().Name ?? "", version, asm.Location,
            AssemblyLoadContext.GetLoadContext(asm)?.Name ?? "", true, error);
    }
}
