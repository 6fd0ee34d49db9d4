namespace ExoBackup.Engine.Tools;

/// <summary>
/// What goes into a child tool's option or config file (the MySQL option file, a pgpass line, the
/// mongodump YAML) comes from files the eXo account writes. A line break there starts an option of its
/// own: plugin-dir= and default-auth= made a root mariadb-dump load a library of the eXo account's
/// choosing. Control characters are refused before anything is written; the error never shows the value.
/// </summary>
public static class OptionFileValue
{
    public static string Checked(string value, string what, string owner)
    {
        if (value.Any(char.IsControl))
            throw new ExoBackupException("ExoBackup.UnsafeSetting", ErrorKind.InvalidData,
                $"The {what} for {owner} contains a control character (a line break, NUL, …): written into the tool's option file it could add options of its own, so nothing was run. The value is not shown.",
                owner, $"Set a {what} without control characters, in the server and where eXo reads it (server.xml, chat.properties), or give one with -Credential.");
        return value;
    }

    /// <summary>A checked value double-quoted, with \ and " escaped, as the MySQL option file and the mongodump YAML read it.</summary>
    public static string Quoted(string value, string what, string owner) =>
        "\"" + Checked(value, what, owner).Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// A name given to a tool as an argument (a database name from server.xml, -Database or a manifest):
    /// besides control characters, a leading '-' is refused, as the tool would read it as an option
    /// (mariadb-dump's --init-command= runs SQL). Callers also put "--" before positional names.
    /// </summary>
    public static string CheckedArgument(string value, string what, string owner)
    {
        Checked(value, what, owner);
        if (value.Length == 0 || value[0] == '-')
            throw new ExoBackupException("ExoBackup.UnsafeSetting", ErrorKind.InvalidData,
                $"The {what} for {owner} is empty or starts with '-': a tool would read it as an option, so nothing was run.",
                owner, $"Check the {what} in server.xml, chat.properties or -Database.");
        return value;
    }
}
