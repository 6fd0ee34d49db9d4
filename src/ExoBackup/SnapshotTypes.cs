using System.Collections;
using Repo = ExoBackup.Engine.Repository;

namespace ExoBackup;

public enum SnapshotType { Full, Differential, Incremental }
public enum SnapshotStatus { Complete, InProgress, Damaged }
public enum Consistency { Offline, Online }
public enum CompressionType { Zstd, Gzip, None }
public enum VerifyLevel { Checksum, Archive, Restore }
public enum SnapshotComponent { DataDir, Configuration, Database, Chat }
public enum ChatBackupMethod { Auto, Mongodump, Driver }

/// <summary>A snapshot of an eXo platform in a repository.</summary>
public sealed class Snapshot
{
    public string Id { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Path { get; init; } = "";
    public SnapshotType Type { get; init; }
    public SnapshotStatus Status { get; init; }
    public string? Parent { get; init; }
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset? Completed { get; init; }
    public Consistency? Consistency { get; init; }
    public string PlatformHome { get; init; } = "";
    public string PlatformVersion { get; init; } = "";
    public string Host { get; init; } = "";
    public BackupPart[] Parts { get; init; } = [];
    public long SizeBytes { get; init; }
    /// <summary>From the stop of eXo to its restart, when Backup-ExoPlatform -StopPlatform took it.</summary>
    public TimeSpan? Downtime { get; init; }
    public string? Problem { get; init; }
    /// <summary>Items the parts left out (unreadable with -SkipUnreadable, devices, sockets): a restore lacks them.</summary>
    public int SkippedItems { get; init; }

    public override string ToString() => Id;

    internal static Snapshot From(string repo, Repo.SnapshotEntry e) => new()
    {
        Id = e.Id,
        Repository = repo,
        Path = e.Path,
        Type = Mirror.To<SnapshotType>(e.Manifest.Type),
        Status = Mirror.To<SnapshotStatus>(e.Status),
        Parent = e.Manifest.Parent,
        Created = e.Manifest.Created,
        Completed = e.Manifest.Completed,
        Consistency = e.Status == Repo.SnapshotStatus.Complete ? Mirror.To<Consistency>(e.Manifest.Consistency) : null,
        PlatformHome = e.Manifest.Platform.Home,
        PlatformVersion = e.Manifest.Platform.Version,
        Host = e.Manifest.Host,
        Parts = e.Manifest.Parts.Select(p => BackupPart.From(repo, e.Id, p)).ToArray(),
        SizeBytes = e.Manifest.Parts.Sum(p => p.StoredBytes),
        Downtime = e.Manifest.Downtime,
        Problem = e.Problem,
        SkippedItems = e.Manifest.Parts.Sum(p => p.Skipped.Count),
    };
}

/// <summary>One part of a snapshot: the data dir, the configuration, a database, chat.</summary>
public sealed class BackupPart
{
    public string SnapshotId { get; init; } = "";
    public string Repository { get; init; } = "";
    public string Component { get; init; } = "";
    public string Name { get; init; } = "";
    public string[] Files { get; init; } = [];
    public long SourceBytes { get; init; }
    public long StoredBytes { get; init; }
    public long ItemCount { get; init; }
    public long ChangedItems { get; init; }
    public long DeletedItems { get; init; }
    public string Tool { get; init; } = "";
    public string ToolVersion { get; init; } = "";
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Ended { get; init; }
    public TimeSpan Duration => Ended - Started;
    public bool PlatformRunningAtStart { get; init; }
    public bool PlatformRunningAtEnd { get; init; }
    public string[] ChangedWhileRead { get; init; } = [];
    public string[] Skipped { get; init; } = [];
    public string[] Warnings { get; init; } = [];
    public Hashtable Details { get; init; } = new();

    public override string ToString() => $"{SnapshotId}/{Component}";

    internal static BackupPart From(string repo, string id, Repo.PartRecord p) => new()
    {
        SnapshotId = id,
        Repository = repo,
        Component = p.Component,
        Name = p.Name,
        Files = p.Files.Select(f => f.Path).ToArray(),
        SourceBytes = p.SourceBytes,
        StoredBytes = p.StoredBytes,
        ItemCount = p.ItemCount,
        ChangedItems = p.ChangedItems,
        DeletedItems = p.DeletedItems,
        Tool = p.Tool,
        ToolVersion = p.ToolVersion,
        Started = p.Started,
        Ended = p.Ended,
        PlatformRunningAtStart = p.PlatformRunningAtStart,
        PlatformRunningAtEnd = p.PlatformRunningAtEnd,
        ChangedWhileRead = p.ChangedWhileRead.ToArray(),
        Skipped = p.Skipped.ToArray(),
        Warnings = p.Warnings.ToArray(),
        Details = new Hashtable(p.RecordedDetails.ToDictionary()),
    };
}

/// <summary>One check of Test-ExoSnapshot.</summary>
public sealed class TestResult
{
    public string SnapshotId { get; init; } = "";
    public string Part { get; init; } = "";
    public string File { get; init; } = "";
    public VerifyLevel Level { get; init; }
    public bool Passed { get; init; }
    public string Message { get; init; } = "";
}

/// <summary>What Restore-ExoSnapshot put back, and where the replaced data was kept.</summary>
public sealed class RestoreResult
{
    public string SnapshotId { get; init; } = "";
    public string Component { get; init; } = "";
    public string Target { get; init; } = "";
    public string? PreviousDataKeptAt { get; init; }
    /// <summary>Files of a tree, tables of a database, collections of chat (ItemKind says which).</summary>
    public long Items { get; init; }
    public string ItemKind { get; init; } = "";
    /// <summary>Bytes of the files restored (trees only).</summary>
    public long Bytes { get; init; }
    /// <summary>Rows of a database, documents of chat.</summary>
    public long Records { get; init; }
    public TimeSpan Duration { get; init; }
}

/// <summary>A runbook's systemd units, as Register-ExoBackupSchedule wrote them.</summary>
public sealed class BackupSchedule
{
    public string Name { get; init; } = "";
    public string Script { get; init; } = "";
    public string OnCalendar { get; init; } = "";
    public string ServicePath { get; init; } = "";
    public string TimerPath { get; init; } = "";
    public string Service { get; init; } = "";
    public string Timer { get; init; } = "";
    public override string ToString() => Name;
}
