using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExoBackup.Engine.Archive;

/// <summary>
/// One path of a backed-up tree as the index records it. Every index is complete: it lists every
/// path of the tree at that snapshot, and for a file the snapshot whose archive holds its content
/// (<see cref="Archive"/>), so a restore reads only the archives it needs.
/// </summary>
public sealed class IndexEntry
{
    [JsonPropertyName("p")] public string Path { get; set; } = "";
    [JsonPropertyName("t")] public char Kind { get; set; } = 'f';
    [JsonPropertyName("m")] public int Mode { get; set; }
    [JsonPropertyName("u")] public int Uid { get; set; }
    [JsonPropertyName("g")] public int Gid { get; set; }
    [JsonPropertyName("s")] public long Size { get; set; }
    [JsonPropertyName("n")] public long MtimeNs { get; set; }
    [JsonPropertyName("h")] public string? Hash { get; set; }
    [JsonPropertyName("l")] public string? Link { get; set; }
    [JsonPropertyName("a")] public string? Archive { get; set; }

    [JsonIgnore] public EntryType Type => (EntryType)(byte)Kind;
}

/// <summary>The first line of an index.</summary>
public sealed class IndexHeader
{
    [JsonPropertyName("exobackupIndex")] public int Format { get; set; } = 1;
    [JsonPropertyName("snapshot")] public string Snapshot { get; set; } = "";
    [JsonPropertyName("hash")] public string HashAlgorithm { get; set; } = ContentHash.Algorithm;
    [JsonPropertyName("parent")] public string? Parent { get; set; }
    /// <summary>Archive path prefix → the folder it was read from ("" is the data dir itself).</summary>
    [JsonPropertyName("roots")] public Dictionary<string, string> Roots { get; set; } = new();
    /// <summary>Mode, owner and time of the data dir itself (root "").</summary>
    [JsonPropertyName("rootStat")] public IndexEntry? RootStat { get; set; }
}

sealed class IndexLine
{
    [JsonPropertyName("deleted")] public string? Deleted { get; set; }
}

/// <summary>Compiled (source-generated) JSON for the index: no reflection per line, which matters at a million files.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IndexEntry))]
[JsonSerializable(typeof(IndexHeader))]
[JsonSerializable(typeof(IndexLine))]
partial class IndexJson : JsonSerializerContext;

/// <summary>
/// The index as JSON Lines (one object a line, zstd-compressed): written and read as a stream, so
/// memory follows the number of files, never a whole document.
/// </summary>
public sealed class FileIndex
{
    public required IndexHeader Header { get; init; }
    public Dictionary<string, IndexEntry> Entries { get; } = new(StringComparer.Ordinal);
    public List<string> Deleted { get; } = [];

    static readonly IndexJson Json = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static void Write(Stream output, IndexHeader header, IEnumerable<IndexEntry> entries, IEnumerable<string> deleted)
    {
        using var writer = new StreamWriter(output, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        writer.WriteLine(JsonSerializer.Serialize(header, Json.IndexHeader));
        foreach (var e in entries) writer.WriteLine(JsonSerializer.Serialize(e, Json.IndexEntry));
        foreach (var d in deleted) writer.WriteLine(JsonSerializer.Serialize(new IndexLine { Deleted = d }, Json.IndexLine));
    }

    /// <summary>Reads an index; a damaged one is an InvalidData error naming the file and line.</summary>
    public static FileIndex Read(string file)
    {
        using var stream = Compression.OpenRead(file);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var lineNo = 0;
        try
        {
            var first = reader.ReadLine();
            lineNo = 1;
            var header = first is null ? null : JsonSerializer.Deserialize(first, Json.IndexHeader);
            if (header is null || header.Format != 1 || string.IsNullOrEmpty(header.Snapshot))
                throw Bad(file, 1, "no index header");
            if (header.HashAlgorithm != ContentHash.Algorithm)
                throw Bad(file, 1, $"unknown hash algorithm '{header.HashAlgorithm}'");
            var index = new FileIndex { Header = header };
            string? line;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNo++;
                if (line.Length == 0) continue;
                if (line.StartsWith("{\"deleted\"", StringComparison.Ordinal))
                {
                    var d = JsonSerializer.Deserialize(line, Json.IndexLine)?.Deleted ?? throw Bad(file, lineNo, "empty deletion");
                    index.Deleted.Add(d);
                    continue;
                }
                var e = JsonSerializer.Deserialize(line, Json.IndexEntry) ?? throw Bad(file, lineNo, "empty entry");
                if (e.Path.Length == 0 || e.Kind is not ('f' or 'd' or 'l'))
                    throw Bad(file, lineNo, $"entry without a path or with unknown type '{e.Kind}'");
                if (e.Kind == 'f' && (e.Hash is null || e.Archive is null))
                    throw Bad(file, lineNo, $"file '{e.Path}' has no hash or archive");
                index.Entries[e.Path] = e;
            }
            return index;
        }
        catch (JsonException e) { throw Bad(file, lineNo, e.Message, e); }
        catch (Exception e) when (e is IOException or InvalidDataException or ZstdSharp.ZstdException && e is not FileNotFoundException)
        {
            throw new ExoBackupException("ExoBackup.IndexCorrupt", ErrorKind.InvalidData,
                $"The index '{file}' cannot be read (line {lineNo}): {e.Message}", file,
                "Run Test-ExoSnapshot on this snapshot; restore from another snapshot if it fails.", e);
        }
    }

    static ExoBackupException Bad(string file, int line, string what, Exception? inner = null) =>
        new("ExoBackup.IndexCorrupt", ErrorKind.InvalidData, $"The index '{file}' is damaged at line {line}: {what}.", file,
            "Run Test-ExoSnapshot on this snapshot; restore from another snapshot if it fails.", inner);
}
