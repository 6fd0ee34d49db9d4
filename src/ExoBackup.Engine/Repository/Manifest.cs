using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExoBackup.Engine.Repository;

public enum SnapshotType { Full, Differential, Incremental }
public enum Consistency { Offline, Online }
public enum SnapshotStatus { Complete, InProgress, Damaged }

/// <summary>A file a part wrote into the snapshot, with its checksum.</summary>
public sealed class PartFile
{
    public string Path { get; set; } = "";
    public long Size { get; set; }
    public string Sha256 { get; set; } = "";
}

/// <summary>What one backup part (data dir, configuration, a database, chat) wrote and how it went.</summary>
public sealed class PartRecord
{
    public string Component { get; set; } = "";
    public string Name { get; set; } = "";
    public List<PartFile> Files { get; set; } = [];
    public long SourceBytes { get; set; }
    public long StoredBytes { get; set; }
    public long ItemCount { get; set; }
    public long ChangedItems { get; set; }
    public long DeletedItems { get; set; }
    public string Tool { get; set; } = "";
    public string ToolVersion { get; set; } = "";
    public DateTimeOffset Started { get; set; }
    public DateTimeOffset Ended { get; set; }
    public bool PlatformRunningAtStart { get; set; }
    public bool PlatformRunningAtEnd { get; set; }
    public List<string> ChangedWhileRead { get; set; } = [];
    public List<string> Skipped { get; set; } = [];
    public List<string> Warnings { get; set; } = [];
    public Dictionary<string, string> Details { get; set; } = new();

    [JsonIgnore] public string Key => string.IsNullOrEmpty(Name) || Name == Component ? Component : $"{Component}-{Name}";
}

/// <summary>Where the snapshot came from.</summary>
public sealed class PlatformRecord
{
    public string Home { get; set; } = "";
    public string ProductName { get; set; } = "";
    public string Version { get; set; } = "";
    public string DataDir { get; set; } = "";
    public string ConfDir { get; set; } = "";
}

/// <summary>manifest.json: written last; its presence under the final name means the snapshot is complete.</summary>
public sealed class SnapshotManifest
{
    public int FormatVersion { get; set; } = 1;
    public string Id { get; set; } = "";
    public SnapshotType Type { get; set; }
    public string? Parent { get; set; }
    public DateTimeOffset Created { get; set; }
    public DateTimeOffset? Completed { get; set; }
    public string Host { get; set; } = "";
    public string User { get; set; } = "";
    public string Tool { get; set; } = "";
    public PlatformRecord Platform { get; set; } = new();
    public Consistency Consistency { get; set; }
    /// <summary>From the stop of eXo to its restart, when Backup-ExoPlatform -StopPlatform took the snapshot.</summary>
    public TimeSpan? Downtime { get; set; }
    public List<PartRecord> Parts { get; set; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
