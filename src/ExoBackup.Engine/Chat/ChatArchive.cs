using System.IO.Compression;
using ExoBackup.Engine.Repository;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;

namespace ExoBackup.Engine.Chat;

/// <summary>A chat dump as mongodump lays it out: its documents read back, counted and checked against the manifest.</summary>
public static class ChatArchive
{
    /// <summary>Reads every document of a .bson.gz (each must parse); returns how many there are.</summary>
    public static long CountDocuments(string bsonGz) => ReadDocuments(bsonGz).LongCount();

    public static IEnumerable<RawBsonDocument> ReadDocuments(string bsonGz)
    {
        if (!File.Exists(bsonGz)) yield break;
        using var gz = new GZipStream(File.OpenRead(bsonGz), CompressionMode.Decompress);
        var lengthBytes = new byte[4];
        while (true)
        {
            var got = gz.ReadAtLeast(lengthBytes, 4, throwOnEndOfStream: false);
            if (got == 0) yield break;
            if (got < 4) throw new InvalidDataException($"{Path.GetFileName(bsonGz)} ends inside a document length");
            var length = BitConverter.ToInt32(lengthBytes);
            if (length < 5 || length > 16 * 1024 * 1024 + 16 * 1024) throw new InvalidDataException($"{Path.GetFileName(bsonGz)} holds a document of impossible length {length}");
            var buffer = new byte[length];
            lengthBytes.CopyTo(buffer, 0);
            gz.ReadExactly(buffer, 4, length - 4);
            var doc = new RawBsonDocument(buffer);
            _ = doc.ElementCount; // walks every element: a damaged document throws here
            yield return doc;
        }
    }

    /// <summary>The documents of each collection, as the part recorded them when it was taken.</summary>
    public static IReadOnlyDictionary<string, long> DocumentCounts(PartRecord part) => part.Chat.DocumentCounts ?? throw part.Missing("documentCounts");

    /// <summary>The database the part dumped, the folder of its files under chat/.</summary>
    public static string DatabaseOf(PartRecord part) => part.Chat.DatabaseName ?? throw part.Missing("database");

    /// <summary>Test-ExoSnapshot -Level Archive: every document of every collection parses, and the counts match.</summary>
    public static string VerifyArchive(SnapshotEntry s, PartRecord part)
    {
        var expected = DocumentCounts(part);
        foreach (var (coll, count) in expected)
        {
            long n;
            // Names from the manifest: the storage refuses one that would leave the snapshot ("../").
            try
            {
                using var file = s.LocalCopy($"chat/{DatabaseOf(part)}/{coll}.bson.gz");
                n = CountDocuments(file.Path);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or BsonSerializationException or ExoBackupException)
            { throw new InvalidDataException($"{coll}.bson.gz: {e.Message}"); }
            if (n != count) throw new InvalidDataException($"{coll}.bson.gz holds {n} document(s); the manifest says {count}");
        }
        return $"{expected.Count} collection(s), {expected.Values.Sum():N0} document(s) parsed, as recorded";
    }

    internal static List<BsonDocument> Metadata(string dir) =>
        Directory.EnumerateFiles(dir, "*.metadata.json.gz").Order(StringComparer.Ordinal).Select(f =>
        {
            using var gz = new GZipStream(File.OpenRead(f), CompressionMode.Decompress);
            using var r = new StreamReader(gz);
            return BsonSerializer.Deserialize<BsonDocument>(r.ReadToEnd());
        }).ToList();
}
