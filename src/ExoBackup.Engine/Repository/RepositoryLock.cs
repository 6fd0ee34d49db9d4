using ExoBackup.Engine.IO;
using System.Diagnostics;
using System.Text.Json;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Repository;

/// <summary>The lock file's content: who writes to the repository.</summary>
public sealed class LockOwner
{
    public string Host { get; set; } = "";
    public int Pid { get; set; }
    public long ProcessStartTicks { get; set; }
    public DateTimeOffset Created { get; set; }
    public string Snapshot { get; set; } = "";
}

/// <summary>
/// One writer at a time: the lock is a file created exclusively (O_EXCL). A lock whose process is
/// gone from this host (dead, a zombie, or its PID reused by another process) is stale and may be broken.
/// </summary>
public static class RepositoryLock
{
    public const string FileName = "lock.json";

    public static LockOwner Current(string snapshot) => new()
    {
        Host = Environment.MachineName,
        Pid = Environment.ProcessId,
        ProcessStartTicks = StartTicks(Environment.ProcessId) ?? 0,
        Created = DateTimeOffset.UtcNow,
        Snapshot = snapshot,
    };

    const string Unreadable = "(unreadable lock file)";

    public static LockOwner? Read(string repo)
    {
        var file = Path.Combine(repo, FileName);
        try { return JsonSerializer.Deserialize<LockOwner>(File.ReadAllText(file), SnapshotManifest.Json) ?? new LockOwner { Host = "?", Snapshot = Unreadable }; }
        catch (FileNotFoundException) { return null; }
        catch (JsonException) { return new LockOwner { Host = "?", Snapshot = Unreadable }; }
    }

    public static bool IsMine(LockOwner o) => o.Host == Environment.MachineName && o.Pid == Environment.ProcessId;

    public static bool IsStale(LockOwner o)
    {
        // Locks appear whole (TryAcquire), so an unreadable one names no living owner: it can be broken.
        if (o.Snapshot == Unreadable) return true;
        if (o.Host != Environment.MachineName) return false; // cannot tell for another host
        if (!PlatformProcess.IsAlive(o.Pid)) return true;
        var start = StartTicks(o.Pid);
        return start is not null && o.ProcessStartTicks != 0 && start != o.ProcessStartTicks;
    }

    /// <summary>
    /// Writes the whole lock into a file of its own, then moves it into place without overwriting
    /// (link + unlink on Unix): a process killed at any moment leaves either no lock or a complete one.
    /// </summary>
    public static bool TryAcquire(string repo, LockOwner owner)
    {
        var file = Path.Combine(repo, FileName);
        var temp = Path.Combine(repo, $"{FileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        // What a writer killed between the two steps left behind.
        foreach (var left in Directory.EnumerateFiles(repo, FileName + ".*.tmp"))
            if (int.TryParse(Path.GetFileName(left).Split('.')[2], out var pid) && !PlatformProcess.IsAlive(pid))
                try { File.Delete(left); } catch (IOException) { }
        try
        {
            using (var fs = PrivateFiles.OpenWrite(temp, FileMode.CreateNew))
            {
                JsonSerializer.Serialize(fs, owner, SnapshotManifest.Json);
                fs.Flush(true);
            }
            File.Move(temp, file, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(file)) { return false; }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { }
        }
    }

    public static void Release(string repo, string snapshot)
    {
        var owner = Read(repo);
        if (owner is not null && owner.Snapshot == snapshot) File.Delete(Path.Combine(repo, FileName));
    }

    public static void Break(string repo) => File.Delete(Path.Combine(repo, FileName));

    public static string Describe(LockOwner o) =>
        $"host {o.Host}, PID {o.Pid}, since {o.Created:u}, snapshot {o.Snapshot}";

    static long? StartTicks(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { return null; }
    }
}
