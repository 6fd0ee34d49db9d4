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
    string _component = "";
    Dictionary<string, string> _recorded = new(StringComparer.Ordinal);
    PartDetails? _details;

    public string Component
    {
        get => _component;
        set
        {
            if (_details is not null && value != _component) { _recorded = _details.ToRecorded(); _details = null; } // read again as the new component's
            _component = value;
        }
    }
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

    /// <summary>
    /// "details" as the manifest holds it (format 1: a flat object of strings, see <see cref="PartDetails"/>):
    /// what was read, until the typed details are used, then what they write.
    /// </summary>
    [JsonInclude, JsonPropertyName("details")]
    internal Dictionary<string, string> RecordedJson
    {
        get => _details?.ToRecorded() ?? _recorded;
        set { _recorded = value ?? new(StringComparer.Ordinal); _details = null; }
    }

    /// <summary>The details as recorded, strings as the manifest holds them, unchecked (what Get-ExoSnapshot shows).</summary>
    [JsonIgnore] public IReadOnlyDictionary<string, string> RecordedDetails => RecordedJson;

    /// <summary>The typed details of the part's component, read from the record at first use: ExoBackup.RepositoryCorrupt for a value that does not parse.</summary>
    [JsonIgnore] public PartDetails Details => _details ??= PartDetails.Read(Component, Key, _recorded);

    /// <summary>The details of a data dir or configuration part.</summary>
    [JsonIgnore] public TreeDetails Tree => Details as TreeDetails ?? throw NotA(nameof(TreeDetails));
    /// <summary>The details of a database part.</summary>
    [JsonIgnore] public DatabaseDetails Database => Details as DatabaseDetails ?? throw NotA(nameof(DatabaseDetails));
    /// <summary>The details of the chat part.</summary>
    [JsonIgnore] public ChatDetails Chat => Details as ChatDetails ?? throw NotA(nameof(ChatDetails));

    /// <summary>Whether this is a data dir or configuration part (a file tree: <see cref="Tree"/>).</summary>
    [JsonIgnore] public bool IsTree => PartComponents.IsTree(Component);

    /// <summary>ExoBackup.RepositoryCorrupt: the record lacks <paramref name="key"/>, which the code needs.</summary>
    public ExoBackupException Missing(string key) => PartDetails.Missing(Key, key);

    InvalidOperationException NotA(string kind) => new($"{Key} is a {Component} part: it has no {kind}.");

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
