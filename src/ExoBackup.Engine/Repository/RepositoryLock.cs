using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExoBackup.Engine.Storage;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Repository;

/// <summary>The lock file's content: who writes to the repository.</summary>
public sealed class LockOwner
{
    public string Host { get; set; } = "";
    public int Pid { get; set; }
    public long ProcessStartTicks { get; set; }
    public DateTimeOffset Created { get; set; }
    /// <summary>Rewritten while the lock is held, so another host can tell a dead writer's lock by its age.</summary>
    public DateTimeOffset? Refreshed { get; set; }
    public string Snapshot { get; set; } = "";
    /// <summary>Random per lock: what tells this lock from another one of the same process and snapshot.</summary>
    public string Token { get; set; } = "";

    /// <summary>The file's text as read: a lock is broken only if the file still holds exactly this.</summary>
    [JsonIgnore] public string Raw { get; set; } = "";
}

/// <summary>
/// One writer at a time. The lock appears whole under its name only if nothing has that name
/// (<see cref="IRepositoryStorage.SaveNew"/>: link(2) in a folder): two writers can never both hold it. A lock whose process is gone from this host (dead, a zombie, or its PID reused),
/// or another host's lock not refreshed for <see cref="StaleAfter"/>, is stale; it is broken by
/// renaming it aside and checking that what was moved is still the lock judged stale.
/// </summary>
public static class RepositoryLock
{
    public const string FileName = "lock.json";
    const string Unreadable = "(unreadable lock file)";

    /// <summary>How often a held lock is rewritten, and how old another host's lock must be to count as stale.</summary>
    internal static TimeSpan RefreshEvery { get; set; } = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);

    /// <summary>A held lock's refresher: its gate keeps a tick from rewriting the lock once it is stopped.</summary>
    sealed class Refresher
    {
        public Timer? Timer;
        public bool Stopped;
    }

    static readonly Dictionary<string, Refresher> Refreshers = new(StringComparer.Ordinal);

    public static LockOwner Current(string snapshot) => new()
    {
        Host = Environment.MachineName,
        Pid = Environment.ProcessId,
        ProcessStartTicks = StartTicks(Environment.ProcessId) ?? 0,
        Created = DateTimeOffset.UtcNow,
        Refreshed = DateTimeOffset.UtcNow,
        Snapshot = snapshot,
        Token = Guid.NewGuid().ToString("N"),
    };

    public static LockOwner? Read(IRepositoryStorage repo) => ReadFile(repo, FileName);

    static LockOwner? ReadFile(IRepositoryStorage repo, string name)
    {
        string raw;
        try
        {
            using var reader = new StreamReader(repo.Load(name));
            raw = reader.ReadToEnd();
        }
        catch (FileNotFoundException) { return null; }
        try
        {
            var owner = JsonSerializer.Deserialize<LockOwner>(raw, SnapshotManifest.Json) ?? new LockOwner { Host = "?", Snapshot = Unreadable };
            owner.Raw = raw;
            // The snapshot names a folder of the repository: anything else is a forged or damaged lock.
            if (!SnapshotId.IsValid(owner.Snapshot)) owner.Snapshot = Unreadable;
            return owner;
        }
        catch (JsonException) { return new LockOwner { Host = "?", Snapshot = Unreadable, Raw = raw }; }
    }

    public static bool IsMine(LockOwner o) => o.Host == Environment.MachineName && o.Pid == Environment.ProcessId
        && (o.ProcessStartTicks == 0 || o.ProcessStartTicks == StartTicks(Environment.ProcessId));

    public static bool IsStale(LockOwner o)
    {
        // Locks appear whole (TryAcquire), so an unreadable one names no living owner: it can be broken.
        if (o.Snapshot == Unreadable) return true;
        if (o.Host != Environment.MachineName)
            return o.Refreshed is { } refreshed && DateTimeOffset.UtcNow - refreshed > StaleAfter;
        if (!PlatformProcess.IsAlive(o.Pid)) return true;
        var start = StartTicks(o.Pid);
        return start is not null && o.ProcessStartTicks != 0 && start != o.ProcessStartTicks;
    }

    /// <summary>Whether the lock is this host's and its process is gone (dead, a zombie, or its PID reused): no one can hold it.</summary>
    public static bool IsLeftByDeadLocalProcess(LockOwner o) => o.Snapshot != Unreadable && o.Host == Environment.MachineName && IsStale(o);

    /// <summary>Takes the lock if nobody holds it; false if somebody does. A process killed at any moment leaves no lock or a whole one.</summary>
    public static bool TryAcquire(IRepositoryStorage repo, LockOwner owner)
    {
        // On NFS a create whose reply was lost reports "exists" on the retry: the lock may be ours.
        if (!repo.SaveNew(FileName, Serialized(owner)) && Read(repo)?.Token != owner.Token) return false;
        StartRefreshing(repo, owner);
        return true;
    }

    static byte[] Serialized(LockOwner owner) => JsonSerializer.SerializeToUtf8Bytes(owner, SnapshotManifest.Json);

    /// <summary>Rewrites the held lock with a new Refreshed time every RefreshEvery, as long as it is still ours.</summary>
    static void StartRefreshing(IRepositoryStorage repo, LockOwner owner)
    {
        var refresher = new Refresher();
        lock (Refreshers)
        {
            if (Refreshers.Remove(repo.Location, out var old)) Stop(old);
            Refreshers[repo.Location] = refresher;
        }
        refresher.Timer = new Timer(_ =>
        {
            lock (refresher)
            {
                if (refresher.Stopped) return;
                try
                {
                    var held = Read(repo);
                    if (held is null) return; // absent for a moment (another writer checking it): the next tick looks again
                    if (held.Token != owner.Token) { Stop(refresher); return; } // no longer ours
                    owner.Refreshed = DateTimeOffset.UtcNow;
                    repo.Save(FileName, Serialized(owner));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the next tick tries again
            }
        }, null, RefreshEvery, RefreshEvery);
    }

    static void Stop(Refresher r)
    {
        lock (r)
        {
            r.Stopped = true;
            r.Timer?.Dispose();
        }
    }

    static void StopRefreshing(IRepositoryStorage repo)
    {
        Refresher? r;
        lock (Refreshers) Refreshers.Remove(repo.Location, out r);
        if (r is not null) Stop(r);
    }

    public static void Release(IRepositoryStorage repo, string snapshot)
    {
        var owner = Read(repo);
        if (owner is null || owner.Snapshot != snapshot) return;
        StopRefreshing(repo);
        repo.Remove(FileName);
    }

    /// <summary>
    /// Breaks the lock only if it is still <paramref name="judged"/>: moves whatever holds the name aside
    /// (one rename), compares it with what was judged, and puts a lock taken meanwhile back. True if the
    /// judged lock is gone (broken here, or by somebody else).
    /// </summary>
    public static bool BreakIfStill(IRepositoryStorage repo, LockOwner judged)
    {
        var aside = $"{FileName}.{Guid.NewGuid():N}.breaking";
        if (!repo.Rename(FileName, aside)) return true; // released or broken meanwhile
        try
        {
            var moved = ReadFile(repo, aside);
            if (moved is not null && moved.Raw == judged.Raw) return true;
            // Somebody took the lock after it was judged: it goes back, unless yet another writer holds the name now.
            if (moved is not null) repo.SaveNew(FileName, System.Text.Encoding.UTF8.GetBytes(moved.Raw));
            return false;
        }
        finally { repo.Remove(aside); }
    }

    public static string Describe(LockOwner o) =>
        $"host {o.Host}, PID {o.Pid}, since {o.Created:u}{(o.Refreshed is { } r ? $", refreshed {r:u}" : "")}, snapshot {o.Snapshot}";

    /// <summary>
    /// When the process started, to tell a PID reused by another process. On Linux field 22 of
    /// /proc/&lt;pid&gt;/stat (clock ticks since boot), which, unlike a wall-clock start time, does
    /// not move when the clock is stepped: a live writer must never look dead.
    /// </summary>
    static long? StartTicks(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return long.TryParse(fields[19], out var ticks) ? ticks : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException) { return null; }
        }
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.StartTime.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { return null; }
    }
}
