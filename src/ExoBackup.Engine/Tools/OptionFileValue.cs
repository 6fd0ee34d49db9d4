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
            throw Errors.UnsafeSetting(what, owner);
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
            throw Errors.UnsafeSettingOption(what, owner);
        return value;
    }
}
