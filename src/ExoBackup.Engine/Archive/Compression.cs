using ExoBackup.Engine.IO;
using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace ExoBackup.Engine.Archive;

public enum CompressionKind { Zstd, Gzip, None }

/// <summary>Standard containers only (zstd frames, gzip members), so `zstd -d`/`gzip -d` read every file by hand.</summary>
public static class Compression
{
    /// <summary>The zstd implementation in use, for the manifest.</summary>
    public static string ZstdImplementation => NativeZstd.Available ? "libzstd" : "ZstdSharp";

    public static string Extension(CompressionKind kind) => kind switch
    {
        CompressionKind.Zstd => ".zst",
        CompressionKind.Gzip => ".gz",
        _ => "",
    };

    public static CompressionKind FromFileName(string name) =>
        name.EndsWith(".zst", StringComparison.Ordinal) ? CompressionKind.Zstd
        : name.EndsWith(".gz", StringComparison.Ordinal) ? CompressionKind.Gzip
        : CompressionKind.None;

    /// <summary>A compressing stream over <paramref name="inner"/>; zstd uses every core, as `zstd -T0` does.</summary>
    public static Stream Compress(Stream inner, CompressionKind kind, int level, bool leaveOpen = false)
    {
        switch (kind)
        {
            case CompressionKind.Zstd when NativeZstd.Available:
                return new NativeZstd.CompressStream(inner, level <= 0 ? 3 : level, Environment.ProcessorCount, leaveOpen);
            case CompressionKind.Zstd:
                var z = new CompressionStream(inner, level <= 0 ? 3 : level, 1 << 20, leaveOpen);
                if (Environment.ProcessorCount > 1)
                    z.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, Environment.ProcessorCount);
                return z;
            case CompressionKind.Gzip:
                var gl = level switch { <= 0 => CompressionLevel.Optimal, 1 => CompressionLevel.Fastest, >= 9 => CompressionLevel.SmallestSize, _ => CompressionLevel.Optimal };
                return new GZipStream(inner, gl, leaveOpen);
            default:
                return leaveOpen ? new NonClosingStream(inner) : inner;
        }
    }

    public static Stream Decompress(Stream inner, CompressionKind kind) => kind switch
    {
        CompressionKind.Zstd when NativeZstd.Available => new NativeZstd.DecompressStream(inner),
        CompressionKind.Zstd => new DecompressionStream(inner, 1 << 20),
        CompressionKind.Gzip => new GZipStream(inner, CompressionMode.Decompress),
        _ => inner,
    };

    public static Stream OpenRead(string file) =>
        Decompress(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20), FromFileName(file));

    /// <summary>A stored file of a snapshot, decompressed as its name says.</summary>
    public static Stream OpenRead(Repository.SnapshotEntry snapshot, string file) => Decompress(snapshot.OpenRead(file), FromFileName(file));
}

sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;
    public override bool CanSeek => false;
    public override bool CanWrite => inner.CanWrite;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
}
