using System.IO.Compression;
using System.Security.Cryptography;
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
}

/// <summary>Counts and hashes (SHA-256) what is written through it: the stored file's checksum without reading it again.</summary>
public sealed class HashingWriteStream(Stream inner) : ForwardWriteStream
{
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    public long Length64 { get; private set; }
    public string HashHex() => Convert.ToHexString(_sha.GetCurrentHash()).ToLowerInvariant();
    public override long Length => Length64;
    public override void Flush() => inner.Flush();
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _sha.AppendData(buffer);
        inner.Write(buffer);
        Length64 += buffer.Length;
    }
    protected override void Dispose(bool disposing)
    {
        if (disposing) { inner.Dispose(); _sha.Dispose(); }
        base.Dispose(disposing);
    }
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

/// <summary>
/// Reads a stored file ahead on a background thread and hashes it (SHA-256) there, so a restore
/// verifies each archive while it extracts it, on the other core, instead of reading it twice.
/// <see cref="Finish"/> reads whatever the consumer left (trailing blocks) and returns the hash.
/// </summary>
public sealed class VerifyingReadStream : ForwardReadStream
{
    readonly System.Collections.Concurrent.BlockingCollection<(byte[] Buffer, int Length)> _queue = new(16);
    readonly Task<string> _reader;
    readonly CancellationTokenSource _stop = new();
    byte[]? _current;
    int _pos, _len;

    public VerifyingReadStream(string path)
    {
        _reader = Task.Run(() =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            try
            {
                using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.SequentialScan);
                while (true)
                {
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
                    var n = fs.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
                    if (n == 0) { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); break; }
                    sha.AppendData(buffer, 0, n);
                    _queue.Add((buffer, n), _stop.Token);
                }
                return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
            }
            finally { _queue.CompleteAdding(); }
        });
    }

    public override int Read(Span<byte> buffer)
    {
        while (_current is null || _pos == _len)
        {
            if (_current is not null) System.Buffers.ArrayPool<byte>.Shared.Return(_current);
            _current = null;
            if (!_queue.TryTake(out var next, Timeout.Infinite))
            {
                if (_reader.IsFaulted) _reader.GetAwaiter().GetResult();
                return 0;
            }
            (_current, _len, _pos) = (next.Buffer, next.Length, 0);
        }
        var n = Math.Min(buffer.Length, _len - _pos);
        _current.AsSpan(_pos, n).CopyTo(buffer);
        _pos += n;
        return n;
    }


    /// <summary>The SHA-256 of the whole file, once the rest of it has been read.</summary>
    public string Finish()
    {
        foreach (var (b, _) in _queue.GetConsumingEnumerable()) System.Buffers.ArrayPool<byte>.Shared.Return(b);
        return _reader.GetAwaiter().GetResult();
    }

    bool _disposed;

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _stop.Cancel();
            foreach (var (b, _) in _queue.GetConsumingEnumerable()) System.Buffers.ArrayPool<byte>.Shared.Return(b);
            try { _reader.Wait(); } catch (AggregateException) { }
            _queue.Dispose();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }

}
