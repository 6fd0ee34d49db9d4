using System.Security.Cryptography;
using ExoBackup.Engine.IO;

namespace ExoBackup.Engine.Hashing;

/// <summary>SHA-256, the checksum of every file a snapshot stores (SHA256SUMS, part records), as lower-case hex.</summary>
public static class Sha256
{
    public static string Hex(Stream s) => Convert.ToHexString(SHA256.HashData(s)).ToLowerInvariant();

    public static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    public static string OfFile(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Hex(fs);
    }
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

    public VerifyingReadStream(Stream source)
    {
        _reader = Task.Run(() =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            try
            {
                using var fs = source;
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
