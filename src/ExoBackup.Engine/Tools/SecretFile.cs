namespace ExoBackup.Engine.Tools;

/// <summary>
/// A file holding a secret for a child process (PGPASSFILE, --defaults-extra-file, --config): created
/// already 0600 in a fresh 0700 folder, and deleted with its folder on Dispose, which every caller
/// does in a finally (also on Ctrl+C). The secret never appears on a command line.
/// </summary>
public sealed class SecretFile : IDisposable
{
    readonly string _dir;

    public SecretFile(string name, string content)
    {
        _dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "exobackup-" + Guid.NewGuid().ToString("N"));
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(_dir);
        else Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Path = System.IO.Path.Combine(_dir, name);
        using var fs = new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var w = new StreamWriter(fs);
        w.Write(content);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
