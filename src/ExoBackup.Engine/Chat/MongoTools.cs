using ExoBackup.Engine.Tools;

namespace ExoBackup.Engine.Chat;

public enum ChatMethod { Auto, Mongodump, Driver }

/// <summary>mongodump and mongorestore: which one runs (or the driver instead), and their --config file.</summary>
internal static class MongoTools
{
    /// <summary>mongodump or mongorestore, unless the method is Driver; with Auto, none (the driver does the work) where it is not installed.</summary>
    internal static ExternalTool? Find(ChatMethod method, IReadOnlyList<string> toolPaths, string name, IOperationLog log)
    {
        if (method == ChatMethod.Driver) return null;
        try { return ExternalTool.Find(toolPaths, "mongodb-database-tools", name); }
        catch (ExoBackupException) when (method == ChatMethod.Auto)
        {
            log.Verbose($"{name} is not installed: the driver does its work.");
            return null;
        }
    }

    /// <summary>A mongodump/mongorestore --config file: the URI (without the password) and the password.</summary>
    internal static string ConfigYaml(ChatTarget t)
    {
        string Q(string s, string what) => OptionFileValue.Quoted(s, what, t.Describe());
        return $"uri: {Q(t.Uri(), "connection string (hosts, user, database)")}\n" + (t.User is null ? "" : $"password: {Q(t.Password ?? "", "password")}\n");
    }
}
