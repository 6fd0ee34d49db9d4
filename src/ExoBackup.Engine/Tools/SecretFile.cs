using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Tools;

/// <summary>
/// A file holding a secret for a child process (PGPASSFILE, --defaults-file, --config): created
/// already 0600 in a fresh 0700 folder, and deleted with its folder on Dispose, which every caller
/// does in a finally (also on Ctrl+C). A process killed outright runs no finally: its folder names
/// its PID, and the next SecretFile removes the folders of processes that are gone.
/// The secret never appears on a command line.
/// </summary>
public sealed class SecretFile : IDisposable
{
    const string Prefix = "exobackup-secret-";
    readonly string _dir;

    /// <summary>
    /// Removes the secret folders left by ExoBackup processes that were killed: only folders (not links)
    /// of this user, 0700, as SecretFile makes them. Anyone can create names in the temp folder; a folder
    /// planted there by another user is left alone, and nothing is ever followed (TreeDeleter).
    /// </summary>
    public static int SweepOrphans()
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateFileSystemEntries(System.IO.Path.GetTempPath(), Prefix + "*"))
        {
            var parts = System.IO.Path.GetFileName(dir)[Prefix.Length..].Split('-');
            if (parts.Length < 2 || !int.TryParse(parts[0], out var pid) || pid == Environment.ProcessId) continue;
            if (Platform.PlatformProcess.IsAlive(pid)) continue;
            try
            {
                var st = IO.FileStatReader.Get(dir);
                if (st.Type != IO.EntryType.Directory || (st.Mode & 0xFFF) != 0x1C0 || (OperatingSystem.IsLinux() && st.Uid != IO.FileStatReader.EffectiveUid)) continue;
                TreeDeleter.Delete(dir);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    public SecretFile(string name, string content)
    {
        SweepOrphans();
        _dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        PrivateFiles.CreateDirectory(_dir);
        Path = System.IO.Path.Combine(_dir, name);
        using var fs = PrivateFiles.OpenWrite(Path, FileMode.CreateNew);
        using var w = new StreamWriter(fs);
        w.Write(content);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { TreeDeleter.Delete(_dir); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
