using ExoBackup.Engine.IO;
using ExoBackup.Engine.Hashing;
using System.Buffers;
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
    /// <summary>ctime (ns), inode and device of a file when it was read: with size and mtime, what says it is unchanged.
    /// 0 in indexes written before they were recorded, which makes the next backup read every file once.</summary>
    [JsonPropertyName("c"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long CtimeNs { get; set; }
    [JsonPropertyName("i"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Inode { get; set; }
    [JsonPropertyName("d"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Device { get; set; }

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

    // Entry lines are the bulk of an index (one per path of the tree): they are written and read by
    // hand with Utf8JsonWriter/Utf8JsonReader, the same JSON the serializer writes, in a fraction of
    // its time (an incremental backup of 100,000 files reads one index and writes another).
    static readonly JsonWriterOptions LineOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    public static void Write(Stream output, IndexHeader header, IEnumerable<IndexEntry> entries, IEnumerable<string> deleted)
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 17);
        using var json = new Utf8JsonWriter(buffer, LineOptions);
        void EndLine()
        {
            json.Flush();
            json.Reset();
            buffer.GetSpan(1)[0] = (byte)'\n';
            buffer.Advance(1);
            if (buffer.WrittenCount < 1 << 16) return;
            output.Write(buffer.WrittenSpan);
            buffer.ResetWrittenCount();
        }
        JsonSerializer.Serialize(json, header, Json.IndexHeader);
        EndLine();
        foreach (var e in entries)
        {
            WriteEntry(json, e);
            EndLine();
        }
        foreach (var d in deleted)
        {
            JsonSerializer.Serialize(json, new IndexLine { Deleted = d }, Json.IndexLine);
            EndLine();
        }
        output.Write(buffer.WrittenSpan);
    }

    static void WriteEntry(Utf8JsonWriter w, IndexEntry e)
    {
        w.WriteStartObject();
        w.WriteString("p"u8, e.Path);
        w.WriteString("t"u8, [e.Kind]);
        w.WriteNumber("m"u8, e.Mode);
        w.WriteNumber("u"u8, e.Uid);
        w.WriteNumber("g"u8, e.Gid);
        w.WriteNumber("s"u8, e.Size);
        w.WriteNumber("n"u8, e.MtimeNs);
        if (e.Hash is not null) w.WriteString("h"u8, e.Hash);
        if (e.Link is not null) w.WriteString("l"u8, e.Link);
        if (e.Archive is not null) w.WriteString("a"u8, e.Archive);
        if (e.CtimeNs != 0) w.WriteNumber("c"u8, e.CtimeNs);
        if (e.Inode != 0) w.WriteNumber("i"u8, e.Inode);
        if (e.Device != 0) w.WriteNumber("d"u8, e.Device);
        w.WriteEndObject();
    }

    /// <summary>One entry line; unknown properties are skipped, anything else malformed throws (JsonException, FormatException, InvalidOperationException).</summary>
    static IndexEntry ReadEntry(ReadOnlySpan<byte> line)
    {
        var r = new Utf8JsonReader(line);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new JsonException("the line is not a JSON object");
        var e = new IndexEntry();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            // Every name is one letter (never escaped by the writer); a longer one is unknown, skipped.
            var name = r.ValueIsEscaped ? (r.GetString() is [var c] ? c : '\0') : r.ValueSpan.Length == 1 ? (char)r.ValueSpan[0] : '\0';
            if (!r.Read()) break;
            switch (name)
            {
                case 'p': e.Path = r.GetString() ?? throw new JsonException("the path is null"); break;
                case 't': e.Kind = r.GetString() is [var k] ? k : throw new JsonException("the type is not one character"); break;
                case 'm': e.Mode = r.GetInt32(); break;
                case 'u': e.Uid = r.GetInt32(); break;
                case 'g': e.Gid = r.GetInt32(); break;
                case 's': e.Size = r.GetInt64(); break;
                case 'n': e.MtimeNs = r.GetInt64(); break;
                case 'h': e.Hash = r.GetString(); break;
                case 'l': e.Link = r.GetString(); break;
                case 'a': e.Archive = r.GetString(); break;
                case 'c': e.CtimeNs = r.GetInt64(); break;
                case 'i': e.Inode = r.GetInt64(); break;
                case 'd': e.Device = r.GetInt64(); break;
                default: r.Skip(); break;
            }
        }
        if (r.TokenType != JsonTokenType.EndObject || r.Read()) throw new JsonException("the object is not closed, or text follows it");
        return e;
    }

    /// <summary>Reads an index; a damaged one is an InvalidData error naming the file and line.</summary>
    public static FileIndex Read(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Read(stream, file);
    }

    /// <summary>Reads an index from a (compressed) stream; <paramref name="file"/> names it in errors.</summary>
    public static FileIndex Read(Stream compressed, string file)
    {
        using var stream = Compression.Decompress(compressed, Compression.FromFileName(file));
        var lineNo = 0;
        try
        {
            FileIndex? index = null;
            foreach (var line in Lines(stream))
            {
                lineNo++;
                var span = line.Span;
                if (index is null)
                {
                    var header = JsonSerializer.Deserialize(span, Json.IndexHeader);
                    if (header is null || header.Format != 1 || string.IsNullOrEmpty(header.Snapshot))
                        throw Errors.IndexCorrupt(file, 1, "no index header");
                    if (header.HashAlgorithm != ContentHash.Algorithm)
                        throw Errors.IndexCorrupt(file, 1, $"unknown hash algorithm '{header.HashAlgorithm}'");
                    index = new FileIndex { Header = header };
                    continue;
                }
                if (span.Length == 0) continue;
                if (span.StartsWith("{\"deleted\""u8))
                {
                    index.Deleted.Add(JsonSerializer.Deserialize(span, Json.IndexLine)?.Deleted ?? throw Errors.IndexCorrupt(file, lineNo, "empty deletion"));
                    continue;
                }
                var e = ReadEntry(span);
                if (e.Path.Length == 0 || e.Kind is not ('f' or 'd' or 'l'))
                    throw Errors.IndexCorrupt(file, lineNo, $"entry without a path or with unknown type '{e.Kind}'");
                if (e.Kind == 'f' && (e.Hash is null || e.Archive is null))
                    throw Errors.IndexCorrupt(file, lineNo, $"file '{e.Path}' has no hash or archive");
                index.Entries[e.Path] = e;
            }
            return index ?? throw Errors.IndexCorrupt(file, 1, "no index header");
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException) { throw Errors.IndexCorrupt(file, lineNo, e.Message, e); }
        catch (Exception e) when (e is IOException or InvalidDataException or ZstdSharp.ZstdException && e is not FileNotFoundException)
        {
            throw Errors.IndexCorruptUnreadable(file, lineNo, e);
        }
    }

    const int MaxLineBytes = 1 << 20;

    /// <summary>The stream's lines as UTF-8 bytes, without their '\n' (valid until the next line is taken).</summary>
    static IEnumerable<ReadOnlyMemory<byte>> Lines(Stream stream)
    {
        var buffer = new byte[1 << 16];
        int start = 0, end = 0;
        var eof = false;
        while (true)
        {
            var nl = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                yield return buffer.AsMemory(start, nl);
                start += nl + 1;
                continue;
            }
            if (eof)
            {
                if (end > start) yield return buffer.AsMemory(start, end - start);
                yield break;
            }
            // Keep the unfinished line at the front, make room (a line longer than the buffer grows it), read on.
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
            if (end == buffer.Length)
            {
                // A path is at most 4 KiB, an entry a few more: a longer line is damage, never a reason to allocate.
                if (buffer.Length >= MaxLineBytes) throw new InvalidDataException($"a line is longer than {MaxLineBytes >> 20} MiB");
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var n = stream.Read(buffer, end, buffer.Length - end);
            if (n == 0) eof = true;
            end += n;
        }
    }
}
