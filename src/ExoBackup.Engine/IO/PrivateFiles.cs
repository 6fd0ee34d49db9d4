namespace ExoBackup.Engine.IO;

/// <summary>
/// Files and folders only their owner can open, created 0600 and 0700 by the call that creates them:
/// a chmod afterwards would leave a moment in which another user could open them and keep the handle.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode DirectoryPermissions = FilePermissions | UnixFileMode.UserExecute;

    /// <summary>Opens for writing; a file it creates is 0600 from the start (an existing one keeps its mode).</summary>
    public static FileStream OpenWrite(string path, FileMode mode, int bufferSize = 4096)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = FilePermissions;
        return new FileStream(path, options);
    }

    /// <summary>Creates (or truncates) a file 0600, and its missing folders 0700.</summary>
    public static FileStream Create(string path, int bufferSize = 1 << 16)
    {
        CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return OpenWrite(path, FileMode.Create, bufferSize);
    }

    /// <summary>
    /// Takes group and other bits off what a tool created (its umask decided them), a folder with all
    /// it holds. The tool wrote into a 0700 snapshot folder, so nobody else could open it meanwhile.
    /// </summary>
    public static void Restrict(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (Directory.Exists(path))
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) & DirectoryPermissions);
            foreach (var entry in Directory.EnumerateFileSystemEntries(path)) Restrict(entry);
        }
        else if (File.Exists(path)) File.SetUnixFileMode(path, File.GetUnixFileMode(path) & FilePermissions);
    }

    /// <summary>
    /// Creates the folder and every missing parent 0700 (Windows: with inherited rights). .NET's
    /// CreateDirectory(path, mode) gives the mode to the last folder only; the parents it creates get 0777 less the umask.
    /// </summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(path); return; }
        var missing = new Stack<string>();
        for (var p = Path.GetFullPath(path); !Directory.Exists(p); p = Path.GetDirectoryName(p)!) missing.Push(p);
        while (missing.Count > 0) Directory.CreateDirectory(missing.Pop(), DirectoryPermissions);
    }
}
