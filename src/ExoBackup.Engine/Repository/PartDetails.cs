using System.Globalization;
using System.Text.Json;
using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Repository;

/// <summary>The components a snapshot holds parts of; each records its own details.</summary>
public static class PartComponents
{
    public const string DataDir = "DataDir";
    public const string Configuration = "Configuration";
    public const string Database = "Database";
    public const string Chat = "Chat";

    /// <summary>A file tree: a pax tar archive and its index (<see cref="TreeDetails"/>).</summary>
    public static bool IsTree(string component) => component is DataDir or Configuration;
}

/// <summary>
/// What a part records beyond its files, typed per component: <see cref="TreeDetails"/> (data dir,
/// configuration), <see cref="DatabaseDetails"/>, <see cref="ChatDetails"/>.
/// <para>
/// On disk they stay as manifest format 1 has them: "details", a flat object of strings, numbers
/// as decimal text, lists joined with commas, counts as JSON inside a string
/// (<c>"rowCounts": "{\"public.jcr_item\":20}"</c>). A part is read from those strings once, at
/// first use, and written back to them: the same keys, in the order this code has always written
/// them, with the same text, so that a reader of format 1 finds nothing new. A key this version
/// does not know is kept as it was (<see cref="Other"/>). A value that does not parse is
/// ExoBackup.RepositoryCorrupt: whoever can write the repository can forge a manifest.
/// </para>
/// </summary>
public abstract class PartDetails
{
    /// <summary>Keys this version does not know (a later version's, or a forger's): never used, written back as they were.</summary>
    public Dictionary<string, string> Other { get; } = new(StringComparer.Ordinal);

    /// <summary>The empty details of a part of <paramref name="component"/>.</summary>
    public static PartDetails For(string component) => component switch
    {
        PartComponents.DataDir or PartComponents.Configuration => new TreeDetails(),
        PartComponents.Database => new DatabaseDetails(),
        PartComponents.Chat => new ChatDetails(),
        _ => new OtherDetails(),
    };

    /// <summary>The recorded keys of this kind of part, in the order they are written, each with its parser and formatter.</summary>
    private protected abstract IReadOnlyList<DetailField> Fields { get; }

    /// <summary>Reads the strings a manifest records for a part of <paramref name="component"/>.</summary>
    internal static PartDetails Read(string component, string partKey, IReadOnlyDictionary<string, string> recorded)
    {
        var details = For(component);
        foreach (var (key, value) in recorded)
        {
            var field = details.Fields.FirstOrDefault(f => f.Key == key);
            if (field is null) { details.Other[key] = value; continue; }
            try { field.Parse(details, value); }
            catch (FormatException e) { throw Corrupt(partKey, $"its {key} '{Shown(value)}' is not {e.Message}"); }
        }
        return details;
    }

    /// <summary>The strings the manifest records: the known keys in their order, then the others as they were.</summary>
    public Dictionary<string, string> ToRecorded()
    {
        var recorded = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in Fields)
            if (f.Format(this) is { } value) recorded[f.Key] = value;
        foreach (var (key, value) in Other) recorded.TryAdd(key, value);
        return recorded;
    }

    /// <summary>A part record without a value the code needs.</summary>
    internal static ExoBackupException Missing(string partKey, string key) => Corrupt(partKey, $"it has no {key}");

    static ExoBackupException Corrupt(string partKey, string what) =>
        Errors.RepositoryCorrupt($"The part record {partKey} is damaged or was altered: {what}.", partKey);

    /// <summary>A recorded value as an error shows it: short, without control characters.</summary>
    static string Shown(string value)
    {
        var s = new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 40 ? s + "…" : s;
    }

    /// <summary>One recorded key: how its value is written (null: not written) and read (FormatException saying what was expected).</summary>
    private protected sealed record DetailField(string Key, Func<PartDetails, string?> Format, Action<PartDetails, string> Parse);

    private protected static DetailField Text<T>(string key, Func<T, string?> get, Action<T, string> set) where T : PartDetails =>
        new(key, d => get((T)d), (d, v) => set((T)d, v));

    /// <summary>A value from a closed set (a scheme, a hash): anything else is refused.</summary>
    private protected static DetailField Checked<T>(string key, Func<T, string?> get, Action<T, string> set, Func<string, bool> valid, string expected) where T : PartDetails =>
        new(key, d => get((T)d), (d, v) => set((T)d, valid(v) ? v : throw new FormatException(expected)));

    /// <summary>A whole number as decimal text; only its canonical form ("5432", not "+5432" or "05432") is read.</summary>
    private protected static DetailField Whole<T>(string key, Func<T, long?> get, Action<T, long> set, long min = 0, long max = long.MaxValue) where T : PartDetails =>
        new(key, d => get((T)d)?.ToString(CultureInfo.InvariantCulture), (d, v) =>
            set((T)d, long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                       && n.ToString(CultureInfo.InvariantCulture) == v
                ? n : throw new FormatException($"a whole number from {min} to {max}")));

    /// <summary>Names joined with commas.</summary>
    private protected static DetailField Names<T>(string key, Func<T, IReadOnlyList<string>?> get, Action<T, IReadOnlyList<string>> set) where T : PartDetails =>
        new(key, d => get((T)d) is { } names ? string.Join(",", names) : null, (d, v) => set((T)d, v.Split(',', StringSplitOptions.RemoveEmptyEntries)));

    /// <summary>Names and counts (tables and rows, collections and documents) as a JSON object inside the string.</summary>
    private protected static DetailField Counts<T>(string key, Func<T, IReadOnlyDictionary<string, long>?> get, Action<T, IReadOnlyDictionary<string, long>> set) where T : PartDetails =>
        new(key, d => get((T)d) is { } counts ? JsonSerializer.Serialize(counts) : null, (d, v) =>
        {
            Dictionary<string, long>? counts;
            try { counts = JsonSerializer.Deserialize<Dictionary<string, long>>(v); }
            catch (JsonException) { counts = null; }
            set((T)d, counts is not null && counts.Values.All(n => n >= 0) ? counts : throw new FormatException("a JSON object of names and counts, such as {\"t\":1}"));
        });

    /// <summary>A time in the round-trip format ("O").</summary>
    private protected static DetailField Time<T>(string key, Func<T, DateTimeOffset?> get, Action<T, DateTimeOffset> set) where T : PartDetails =>
        new(key, d => get((T)d)?.ToString("O", CultureInfo.InvariantCulture), (d, v) =>
            set((T)d, DateTimeOffset.TryParseExact(v, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : throw new FormatException("a time such as 2026-11-26T02:15:00.0000000+00:00")));
}

/// <summary>A file tree part (DataDir, Configuration): its archive and index, how they were written, what was left out.</summary>
public sealed class TreeDetails : PartDetails
{
    /// <summary>How the archive is compressed, as shown: "zstd (libzstd)", "gzip", "none".</summary>
    public string? Compression { get; set; }
    public int? Level { get; set; }
    /// <summary>"full", or "changes since &lt;parent id&gt;".</summary>
    public string? Mode { get; set; }
    /// <summary>Files read, hashed and found the same as the parent's, so not archived again.</summary>
    public long? FilesRehashed { get; set; }
    public long? BytesArchived { get; set; }
    /// <summary>The pax tar archive's name in the snapshot.</summary>
    public string? Archive { get; set; }
    /// <summary>The file index's name in the snapshot.</summary>
    public string? Index { get; set; }
    /// <summary>DataDir: what was left out, as shown ("jcr/swap, jta", then -Exclude's patterns).</summary>
    public string? Excluded { get; set; }
    /// <summary>DataDir: the snapshot whose index this part's changes are taken against.</summary>
    public string? Parent { get; set; }
    /// <summary>Configuration: SHA-256 of the codec key (a restore warns when the platform's differs).</summary>
    public string? CodecKeySha256 { get; set; }

    static readonly DetailField[] fields =
    [
        Text<TreeDetails>("compression", d => d.Compression, (d, v) => d.Compression = v),
        Whole<TreeDetails>("level", d => d.Level, (d, v) => d.Level = (int)v, int.MinValue, int.MaxValue),
        Text<TreeDetails>("mode", d => d.Mode, (d, v) => d.Mode = v),
        Whole<TreeDetails>("filesRehashed", d => d.FilesRehashed, (d, v) => d.FilesRehashed = v),
        Whole<TreeDetails>("bytesArchived", d => d.BytesArchived, (d, v) => d.BytesArchived = v),
        Text<TreeDetails>("archive", d => d.Archive, (d, v) => d.Archive = v),
        Text<TreeDetails>("index", d => d.Index, (d, v) => d.Index = v),
        Text<TreeDetails>("excluded", d => d.Excluded, (d, v) => d.Excluded = v),
        Text<TreeDetails>("parent", d => d.Parent, (d, v) => d.Parent = v),
        Checked<TreeDetails>("codecKeySha256", d => d.CodecKeySha256, (d, v) => d.CodecKeySha256 = v,
            v => v.Length == 64 && v.All(char.IsAsciiHexDigitLower), "a SHA-256 in lower-case hex"),
    ];

    private protected override IReadOnlyList<DetailField> Fields => fields;
}

/// <summary>
/// A database part: where the database was (never the password), the dump, the server's versions and
/// position, the exact row counts. HSQLDB's part holds no dump: its files are in the data dir.
/// </summary>
public sealed class DatabaseDetails : PartDetails
{
    /// <summary>"custom" or "directory" (pg_dump), "sql+zstd" (mariadb-dump), "bak" (SQL Server).</summary>
    public string? Format { get; set; }
    /// <summary>SQL Server: "COPY_ONLY full" or "DIFFERENTIAL".</summary>
    public string? BackupType { get; set; }
    /// <summary>SQL Server: the .bak as the server wrote it, on the server's machine.</summary>
    public string? ServerFile { get; set; }
    /// <summary>The dump's name in the snapshot (a file, or pg_dump's directory).</summary>
    public string? Dump { get; set; }
    public DatabaseEngine? Engine { get; set; }
    /// <summary>HSQLDB: the component whose files hold the database ("DataDir").</summary>
    public string? HeldIn { get; set; }
    /// <summary>HSQLDB: its databases' files.</summary>
    public IReadOnlyList<string>? EmbeddedFiles { get; set; }
    public string? Host { get; set; }
    public int? Port { get; set; }
    public string? DatabaseName { get; set; }
    public string? User { get; set; }
    /// <summary>The platform's datasources that use this database (server.xml's names).</summary>
    public IReadOnlyList<string>? Datasources { get; set; }
    public string? ServerVersion { get; set; }
    /// <summary>The sessions connected to the database besides ExoBackup's when the dump began.</summary>
    public long? OtherSessions { get; set; }
    /// <summary>PostgreSQL: the WAL position when the dump began.</summary>
    public string? WalLsn { get; set; }
    /// <summary>MySQL: the binary log and position when the dump began (where the server keeps one).</summary>
    public string? BinlogFile { get; set; }
    public long? BinlogPosition { get; set; }
    /// <summary>MySQL: the database's default character set and collation, which a restore creates it with.</summary>
    public string? Charset { get; set; }
    public string? Collation { get; set; }
    /// <summary>Every table and its exact row count when the dump began.</summary>
    public IReadOnlyDictionary<string, long>? RowCounts { get; set; }

    static readonly DetailField[] fields =
    [
        Text<DatabaseDetails>("format", d => d.Format, (d, v) => d.Format = v),
        Text<DatabaseDetails>("backupType", d => d.BackupType, (d, v) => d.BackupType = v),
        Text<DatabaseDetails>("serverFile", d => d.ServerFile, (d, v) => d.ServerFile = v),
        Text<DatabaseDetails>("dump", d => d.Dump, (d, v) => d.Dump = v),
        Checked<DatabaseDetails>("engine", d => d.Engine?.ToString(), (d, v) => d.Engine = Enum.Parse<DatabaseEngine>(v),
            v => Enum.GetNames<DatabaseEngine>().Contains(v, StringComparer.Ordinal), "an engine (" + string.Join(", ", Enum.GetNames<DatabaseEngine>()) + ")"),
        Text<DatabaseDetails>("heldIn", d => d.HeldIn, (d, v) => d.HeldIn = v),
        Names<DatabaseDetails>("files", d => d.EmbeddedFiles, (d, v) => d.EmbeddedFiles = v),
        Text<DatabaseDetails>("host", d => d.Host, (d, v) => d.Host = v),
        Whole<DatabaseDetails>("port", d => d.Port, (d, v) => d.Port = (int)v, 0, 65535),
        Text<DatabaseDetails>("database", d => d.DatabaseName, (d, v) => d.DatabaseName = v),
        Text<DatabaseDetails>("user", d => d.User, (d, v) => d.User = v),
        Names<DatabaseDetails>("datasources", d => d.Datasources, (d, v) => d.Datasources = v),
        Text<DatabaseDetails>("serverVersion", d => d.ServerVersion, (d, v) => d.ServerVersion = v),
        Whole<DatabaseDetails>("otherSessions", d => d.OtherSessions, (d, v) => d.OtherSessions = v),
        Text<DatabaseDetails>("walLsn", d => d.WalLsn, (d, v) => d.WalLsn = v),
        Text<DatabaseDetails>("binlogFile", d => d.BinlogFile, (d, v) => d.BinlogFile = v),
        Whole<DatabaseDetails>("binlogPosition", d => d.BinlogPosition, (d, v) => d.BinlogPosition = v),
        Text<DatabaseDetails>("charset", d => d.Charset, (d, v) => d.Charset = v),
        Text<DatabaseDetails>("collation", d => d.Collation, (d, v) => d.Collation = v),
        Counts<DatabaseDetails>("rowCounts", d => d.RowCounts, (d, v) => d.RowCounts = v),
    ];

    private protected override IReadOnlyList<DetailField> Fields => fields;
}

/// <summary>The chat part: where eXo Chat's MongoDB database was (never the password), and its document counts.</summary>
public sealed class ChatDetails : PartDetails
{
    /// <summary>The scheme recorded when the hosts are an SRV name.</summary>
    public const string SrvScheme = "mongodb+srv";

    /// <summary>host:port of each member (or the SRV name).</summary>
    public IReadOnlyList<string>? Hosts { get; set; }
    /// <summary><see cref="SrvScheme"/> when <see cref="Hosts"/> is an SRV name; not recorded otherwise.</summary>
    public string? Scheme { get; set; }
    public string? DatabaseName { get; set; }
    public string? AuthenticationDatabase { get; set; }
    public string? User { get; set; }
    public string? ServerVersion { get; set; }
    /// <summary>Every collection and its documents, as dumped.</summary>
    public IReadOnlyDictionary<string, long>? DocumentCounts { get; set; }
    public DateTimeOffset? DumpedAt { get; set; }

    public bool IsSrv => Scheme == SrvScheme;

    static readonly DetailField[] fields =
    [
        Names<ChatDetails>("hosts", d => d.Hosts, (d, v) => d.Hosts = v),
        Checked<ChatDetails>("scheme", d => d.Scheme, (d, v) => d.Scheme = v, v => v is "mongodb" or SrvScheme, "mongodb or " + SrvScheme),
        Text<ChatDetails>("database", d => d.DatabaseName, (d, v) => d.DatabaseName = v),
        Text<ChatDetails>("authenticationDatabase", d => d.AuthenticationDatabase, (d, v) => d.AuthenticationDatabase = v),
        Text<ChatDetails>("user", d => d.User, (d, v) => d.User = v),
        Text<ChatDetails>("serverVersion", d => d.ServerVersion, (d, v) => d.ServerVersion = v),
        Counts<ChatDetails>("documentCounts", d => d.DocumentCounts, (d, v) => d.DocumentCounts = v),
        Time<ChatDetails>("dumpedAt", d => d.DumpedAt, (d, v) => d.DumpedAt = v),
    ];

    private protected override IReadOnlyList<DetailField> Fields => fields;
}

/// <summary>A part of a component this version does not know: its details are kept, never read.</summary>
public sealed class OtherDetails : PartDetails
{
    private protected override IReadOnlyList<DetailField> Fields => [];
}
