using System.Data.Common;

namespace ExoBackup.Engine.Databases;

/// <summary>
/// The ADO.NET calls the SQL engine adapters share, once for the three drivers (Npgsql,
/// MySqlConnector and SqlClient all derive from System.Data.Common): a statement, a single value,
/// the first column of a result. Parameters are named as the statement names them ("@db").
/// </summary>
internal static class DbCommands
{
    /// <summary>Runs a statement; <paramref name="timeoutSeconds"/> 0 waits as long as it takes (null: the driver's 30 s).</summary>
    internal static void Exec(DbConnection c, string sql, int? timeoutSeconds = null)
    {
        using var cmd = Command(c, sql, []);
        if (timeoutSeconds is int t) cmd.CommandTimeout = t;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The first value of the result (null when there is no row).</summary>
    internal static object? Scalar(DbConnection c, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        return cmd.ExecuteScalar();
    }

    /// <summary>The first column of every row, as text (names of tables, databases, triggers).</summary>
    internal static List<string> Column(DbConnection c, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(c, sql, parameters);
        using var r = cmd.ExecuteReader();
        var values = new List<string>();
        while (r.Read()) values.Add(r.GetString(0));
        return values;
    }

    static DbCommand Command(DbConnection c, string sql, (string Name, object Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }
}
