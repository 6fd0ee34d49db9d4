namespace ExoBackup.Engine.Databases;

/// <summary>
/// Reads the structure of a pg_dump custom-format archive (archive versions 1.12 to 1.16, pg_dump
/// 9.0 to 17) without decompressing it: the header, the table of contents, and the framing of every
/// data block from its offset to its end marker. A dump cut short (even one pg_dump left after
/// exiting 0) ends inside a block, or its blocks do not reach the end of the file. This is what
/// `pg_restore --file /dev/null` proved before, at the cost of inflating the whole dump into SQL.
/// </summary>
public static class PgCustomArchive
{
    const int ArchCustom = 1, BlkData = 1, BlkBlobs = 3, OffsetPosSet = 2, OffsetNoData = 3;
    static int Version(int major, int minor) => (major * 256 + minor) * 256;

    /// <summary>
    /// "schema.table" of every TABLE DATA entry, each of whose data block was walked whole; null when
    /// the file is not a custom archive of a version this reader knows (the caller asks pg_restore).
    /// Throws InvalidDataException, naming what is wrong, when the archive is cut short or damaged.
    /// </summary>
    public static HashSet<string>? ReadTableData(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var r = new Reader(f);
        Span<byte> magic = stackalloc byte[5];
        if (f.Read(magic) != 5 || !magic.SequenceEqual("PGDMP"u8)) return null;
        int vmaj = r.Byte(), vmin = r.Byte(), vrev = r.Byte();
        var version = Version(vmaj, vmin) + vrev;
        if (version < Version(1, 12) || version >= Version(1, 17)) return null;
        r.IntSize = r.Byte();
        r.OffSize = r.Byte();
        if (r.IntSize is < 1 or > 8 || r.OffSize is < 1 or > 8) throw new InvalidDataException("the archive header is damaged");
        if (r.Byte() != ArchCustom) return null;
        if (version >= Version(1, 15)) r.Byte(); else r.Int(); // compression algorithm / level
        for (var i = 0; i < 7; i++) r.Int(); // creation time
        r.Str(); r.Str(); r.Str();           // database, server version, pg_dump version

        var count = r.Int();
        if (count < 0) throw new InvalidDataException("the table of contents is damaged");
        var blocks = new List<(int DumpId, long Offset, string? Table)>();
        for (var i = 0; i < count; i++)
        {
            var dumpId = r.Int();
            var hadDumper = r.Int() != 0;
            r.Str(); r.Str();                  // catalog ids
            var tag = r.Str(); var desc = r.Str();
            r.Int();                           // section
            r.Str(); r.Str(); r.Str();         // definition, drop, copy statements
            var schema = r.Str();
            r.Str();                           // tablespace
            if (version >= Version(1, 14)) r.Str(); // table access method
            if (version >= Version(1, 16)) r.Int(); // relkind
            r.Str(); r.Str();                  // owner, "with oids"
            while (r.Str() is not null) { }    // dependencies
            var (state, offset) = r.Offset();
            if (!hadDumper || state == OffsetNoData) continue;
            // Data written where pg_dump could not seek back to record offsets: only pg_restore can walk it.
            if (state != OffsetPosSet) return null;
            blocks.Add((dumpId, offset, desc == "TABLE DATA" ? $"{schema}.{tag}" : null));
        }

        var end = f.Position;
        foreach (var (dumpId, offset, table) in blocks.OrderBy(b => b.Offset))
        {
            if (offset < end || offset >= f.Length)
                throw new InvalidDataException($"the data of entry {dumpId}{(table is null ? "" : $" ({table})")} lies outside the file: the dump is cut short");
            f.Position = offset;
            var type = r.Byte();
            if ((type != BlkData && type != BlkBlobs) || r.Int() != dumpId)
                throw new InvalidDataException($"no data block where the table of contents places entry {dumpId}");
            if (type == BlkData) r.SkipChunks();
            else while (r.Int() != 0) r.SkipChunks(); // large objects: an OID, its chunks; OID 0 ends them
            end = f.Position;
        }
        if (end != f.Length)
            throw new InvalidDataException($"{f.Length - end:N0} bytes follow the last data block: the archive is damaged");
        return blocks.Where(b => b.Table is not null).Select(b => b.Table!).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>pg_dump's integers: a sign byte, then IntSize bytes little-endian; strings: a length (-1 for none), then UTF-8.</summary>
    sealed class Reader(FileStream f)
    {
        public int IntSize = 4, OffSize = 8;

        public int Byte()
        {
            var b = f.ReadByte();
            return b < 0 ? throw new InvalidDataException($"the file ends at byte {f.Length:N0}, inside the archive: the dump is cut short") : b;
        }

        public int Int()
        {
            var negative = Byte() != 0;
            long value = 0;
            for (var i = 0; i < IntSize; i++) value |= (long)Byte() << (8 * i);
            if (value > int.MaxValue) throw new InvalidDataException("an integer of the archive is out of range: the archive is damaged");
            return negative ? -(int)value : (int)value;
        }

        public string? Str()
        {
            var length = Int();
            if (length < 0) return null;
            if (length > f.Length - f.Position) throw new InvalidDataException("a string runs past the end of the file: the dump is cut short");
            var bytes = new byte[length];
            f.ReadExactly(bytes);
            return System.Text.Encoding.UTF8.GetString(bytes);
        }

        public (int State, long Offset) Offset()
        {
            var state = Byte();
            long offset = 0;
            for (var i = 0; i < OffSize; i++) offset |= (long)Byte() << (8 * i);
            return (state, offset);
        }

        /// <summary>Length-prefixed chunks of compressed data, ended by a zero length: skipped, not read.</summary>
        public void SkipChunks()
        {
            int length;
            while ((length = Int()) != 0)
            {
                if (length < 0 || length > f.Length - f.Position)
                    throw new InvalidDataException($"a data chunk of {length:N0} bytes runs past the end of the file: the dump is cut short");
                f.Seek(length, SeekOrigin.Current);
            }
        }
    }
}
