using ExoBackup.Engine.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ExoBackup.Engine.Archive;

namespace ExoBackup.Engine.Tests;

/// <summary>The index's hand-written line writer and reader against the serializer's JSON.</summary>
public class FileIndexTests
{
    static readonly string[] Names = ["plain", "été/ünïcode", "quote\"back\\slash", "tab\tnew\u0001ctl", "emoji😀", "<html>&'+", "中文/路径", "line\nbreak"];

    static List<IndexEntry> Sample() => Enumerable.Range(0, 400).Select(i =>
    {
        var kind = i % 10 == 0 ? 'd' : i % 7 == 0 ? 'l' : 'f';
        return new IndexEntry
        {
            Path = $"files/{Names[i % Names.Length]}/{i}", Kind = kind, Mode = 0x1A4 + i % 3, Uid = i % 2 == 0 ? 1000 : 0, Gid = -i,
            Size = kind == 'f' ? (long)i << 33 : 0, MtimeNs = long.MaxValue - i,
            CtimeNs = kind == 'f' ? long.MaxValue - 2 * i : 0, Inode = i % 3 == 0 ? 0 : (long)i << 40, Device = i % 2 == 0 ? 2049 : 0,
            Hash = kind == 'f' ? $"{i:x32}" : null, Link = kind == 'l' ? "../" + Names[i % Names.Length] : null, Archive = kind == 'f' ? "20261126T021500Z-full" : null,
        };
    }).ToList();

    [Fact]
    public void Lines_are_byte_for_byte_the_json_of_the_serializer()
    {
        var header = new IndexHeader { Snapshot = "20261126T021500Z-full", Roots = new() { [""] = "/opt/exo/gatein/data", ["_external/été"] = "/srv/été" }, RootStat = new IndexEntry { Kind = 'd', Mode = 0x1ED } };
        var options = new JsonSerializerOptions { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var expected = new StringBuilder();
        expected.Append(JsonSerializer.Serialize(header, options)).Append('\n');
        foreach (var e in Sample()) expected.Append(JsonSerializer.Serialize(e, options)).Append('\n');
        expected.Append("{\"deleted\":\"gone/été\"}\n");
        using var written = new MemoryStream();
        FileIndex.Write(written, header, Sample(), ["gone/été"]);
        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(written.ToArray()));
    }

    [Fact]
    public void A_line_over_1_MiB_is_damage_named_with_its_line_not_an_allocation()
    {
        // Finding 3.7: a 3 GB line compresses to 94 KB and took 2.2 GB to read.
        var file = Path.Combine(Path.GetTempPath(), $"exo-index-{Guid.NewGuid():N}.ndjson.zst");
        try
        {
            using (var fs = File.Create(file))
            using (var z = Compression.Compress(fs, CompressionKind.Zstd, 3))
            {
                z.Write(Encoding.UTF8.GetBytes("{\"exobackupIndex\":1,\"snapshot\":\"20261126T021500Z-full\",\"hash\":\"sha256\",\"roots\":{}}\n{\"p\":\""));
                var block = new byte[1 << 20];
                Array.Fill(block, (byte)'x');
                for (var i = 0; i < 64; i++) z.Write(block);
            }
            var before = GC.GetTotalAllocatedBytes();
            var e = Assert.Throws<ExoBackupException>(() => FileIndex.Read(file));
            Assert.Equal("ExoBackup.IndexCorrupt", e.ErrorId);
            Assert.Contains("line 1", e.Message);
            Assert.True(GC.GetTotalAllocatedBytes() - before < 16 << 20, "reading stopped at the cap");
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void What_is_written_reads_back_the_same_also_in_lines_longer_than_the_read_buffer()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "i.jsonl.zst");
        var entries = Sample();
        entries.Add(new IndexEntry { Path = "files/" + new string('x', 200_000), Kind = 'f', Hash = "00", Archive = "a" });
        using (var f = File.Create(file))
        using (var z = Compression.Compress(f, CompressionKind.Zstd, 3, leaveOpen: true))
            FileIndex.Write(z, new IndexHeader { Snapshot = "s" }, entries, ["gone"]);
        var index = FileIndex.Read(file);
        Assert.Equal(entries.Count, index.Entries.Count);
        foreach (var e in entries)
        {
            var r = index.Entries[e.Path];
            Assert.Equal((e.Kind, e.Mode, e.Uid, e.Gid, e.Size, e.MtimeNs, e.Hash, e.Link, e.Archive), (r.Kind, r.Mode, r.Uid, r.Gid, r.Size, r.MtimeNs, r.Hash, r.Link, r.Archive));
        }
        Assert.Equal(["gone"], index.Deleted);
    }

    [Theory]
    [InlineData("{\"p\":\"a\",\"t\":\"f\",\"s\":\"12\",\"h\":\"00\",\"a\":\"x\"}")] // a number as a string
    [InlineData("{\"p\":\"a\",\"t\":\"ff\",\"h\":\"00\",\"a\":\"x\"}")]          // a type of two letters
    [InlineData("{\"p\":null,\"t\":\"d\"}")]
    [InlineData("{\"p\":\"a\",\"t\":\"d\"} {}")]                                   // text after the object
    [InlineData("{\"p\":\"a\",\"t\":\"d\"")]                                        // not closed
    [InlineData("[\"p\",\"a\"]")]
    [InlineData("{\"p\":\"a\",\"t\":\"d\",\"m\":99999999999}")]                    // out of range
    public void A_malformed_entry_line_is_an_index_error_naming_the_line(string line)
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "bad.jsonl.zst");
        using (var f = File.Create(file))
        using (var z = Compression.Compress(f, CompressionKind.Zstd, 3, leaveOpen: true))
            z.Write(Encoding.UTF8.GetBytes($"{{\"exobackupIndex\":1,\"snapshot\":\"s\",\"hash\":\"{ContentHash.Algorithm}\"}}\n{line}\n"));
        var e = Assert.Throws<ExoBackupException>(() => FileIndex.Read(file));
        Assert.Equal("ExoBackup.IndexCorrupt", e.ErrorId);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Unknown_properties_are_skipped_and_escaped_names_understood()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "i.jsonl.zst");
        using (var f = File.Create(file))
        using (var z = Compression.Compress(f, CompressionKind.Zstd, 3, leaveOpen: true))
            z.Write(Encoding.UTF8.GetBytes($"{{\"exobackupIndex\":1,\"snapshot\":\"s\",\"hash\":\"{ContentHash.Algorithm}\"}}\n{{\"p\":\"a\",\"t\":\"d\",\"future\":{{\"x\":[1,2]}},\"\\u0070\":\"b\"}}\n"));
        Assert.Equal(["b"], FileIndex.Read(file).Entries.Keys); // "\u0070" is "p", as the serializer read it
    }
}
