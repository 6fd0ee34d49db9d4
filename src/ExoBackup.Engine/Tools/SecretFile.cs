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

    /// <summary>Removes the secret folders left by ExoBackup processes that were killed.</summary>
    public static int SweepOrphans()
    {
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(System.IO.Path.GetTempPath(), Prefix + "*"))
        {
            var parts = System.IO.Path.GetFileName(dir)[Prefix.Length..].Split('-');
            if (parts.Length < 2 || !int.TryParse(parts[0], out var pid) || pid == Environment.ProcessId) continue;
            if (Platform.PlatformProcess.IsAlive(pid)) continue;
            try { Directory.Delete(dir, recursive: true); removed++; } catch (IOException) { } catch (UnauthorizedAccessException) { }
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
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
