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

    /// <summary>Creates the folder and any missing parent 0700 (Windows: with inherited rights).</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, DirectoryPermissions);
    }
}
