using ExoBackup.Engine.IO;
using System.Runtime.InteropServices;

namespace ExoBackup.Engine.Archive;

/// <summary>
/// zstd through the system's libzstd (Debian's libzstd1, which the zstd command uses), multithreaded
/// like `zstd -T0`. The managed ZstdSharp port is about three times slower; it remains the fallback
/// where no libzstd is installed (Windows). Both write standard zstd frames.
/// </summary>
static unsafe partial class NativeZstd
{
    const string Lib = "libzstd.so.1";
    const int ZSTD_c_compressionLevel = 100, ZSTD_c_nbWorkers = 400;
    const int ZSTD_e_continue = 0, ZSTD_e_end = 2;

    [StructLayout(LayoutKind.Sequential)] public struct InBuffer { public byte* Src; public nuint Size; public nuint Pos; }
    [StructLayout(LayoutKind.Sequential)] public struct OutBuffer { public byte* Dst; public nuint Size; public nuint Pos; }

    [LibraryImport(Lib)] private static partial nint ZSTD_createCCtx();
    [LibraryImport(Lib)] private static partial nuint ZSTD_freeCCtx(nint cctx);
    [LibraryImport(Lib)] private static partial nuint ZSTD_CCtx_setParameter(nint cctx, int param, int value);
    [LibraryImport(Lib)] private static partial nuint ZSTD_compressStream2(nint cctx, OutBuffer* output, InBuffer* input, int endOp);
    [LibraryImport(Lib)] private static partial nint ZSTD_createDStream();
    [LibraryImport(Lib)] private static partial nuint ZSTD_freeDStream(nint dstream);
    [LibraryImport(Lib)] private static partial nuint ZSTD_decompressStream(nint dstream, OutBuffer* output, InBuffer* input);
    [LibraryImport(Lib)] private static partial uint ZSTD_isError(nuint code);
    [LibraryImport(Lib)] private static partial nint ZSTD_getErrorName(nuint code);
    [LibraryImport(Lib)] private static partial nuint ZSTD_CStreamOutSize();
    [LibraryImport(Lib)] private static partial nuint ZSTD_DStreamOutSize();

    static readonly Lazy<bool> Loaded = new(() =>
    {
        if (Environment.GetEnvironmentVariable("EXOBACKUP_MANAGED_ZSTD") == "1") return false;
        try { return NativeLibrary.TryLoad(Lib, typeof(NativeZstd).Assembly, null, out _) && ZSTD_CStreamOutSize() > 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException) { return false; }
    });

    public static bool Available => Loaded.Value;

    static nuint Check(nuint code)
    {
        if (ZSTD_isError(code) != 0)
            throw new InvalidDataException("zstd: " + Marshal.PtrToStringAnsi(ZSTD_getErrorName(code)));
        return code;
    }

    sealed class Handle(nint ptr, bool compress) : SafeHandle(ptr, true)
    {
        public override bool IsInvalid => handle == 0;
        protected override bool ReleaseHandle()
        {
            if (compress) ZSTD_freeCCtx(handle); else ZSTD_freeDStream(handle);
            return true;
        }
    }

    public sealed class CompressStream : ForwardWriteStream
    {
        readonly Stream _inner;
        readonly bool _leaveOpen;
        readonly Handle _ctx;
        readonly byte[] _out;
        bool _done;

        public CompressStream(Stream inner, int level, int workers, bool leaveOpen)
        {
            _inner = inner;
            _leaveOpen = leaveOpen;
            _ctx = new Handle(ZSTD_createCCtx(), true);
            Check(ZSTD_CCtx_setParameter(_ctx.DangerousGetHandle(), ZSTD_c_compressionLevel, level));
            if (workers > 1) ZSTD_CCtx_setParameter(_ctx.DangerousGetHandle(), ZSTD_c_nbWorkers, workers); // a single-threaded libzstd refuses: fine
            _out = new byte[(int)ZSTD_CStreamOutSize()];
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            fixed (byte* src = buffer)
            fixed (byte* dst = _out)
            {
                var input = new InBuffer { Src = src, Size = (nuint)buffer.Length };
                while (input.Pos < input.Size)
                {
                    var output = new OutBuffer { Dst = dst, Size = (nuint)_out.Length };
                    Check(ZSTD_compressStream2(_ctx.DangerousGetHandle(), &output, &input, ZSTD_e_continue));
                    if (output.Pos > 0) _inner.Write(_out, 0, (int)output.Pos);
                }
            }
        }


        void Finish()
        {
            if (_done) return;
            _done = true;
            fixed (byte* dst = _out)
            {
                var input = new InBuffer();
                nuint left;
                do
                {
                    var output = new OutBuffer { Dst = dst, Size = (nuint)_out.Length };
                    left = Check(ZSTD_compressStream2(_ctx.DangerousGetHandle(), &output, &input, ZSTD_e_end));
                    if (output.Pos > 0) _inner.Write(_out, 0, (int)output.Pos);
                } while (left != 0);
            }
            _inner.Flush();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try { Finish(); }
                finally
                {
                    _ctx.Dispose();
                    if (!_leaveOpen) _inner.Dispose();
                }
            }
            base.Dispose(disposing);
        }

    }

    public sealed class DecompressStream : ForwardReadStream
    {
        readonly Stream _inner;
        readonly Handle _ds;
        readonly byte[] _in = new byte[1 << 17];
        int _inPos, _inLen;
        bool _eof;
        bool _frameComplete = true; // nothing read yet, or the last frame was decoded to its end

        public DecompressStream(Stream inner)
        {
            _inner = inner;
            _ds = new Handle(ZSTD_createDStream(), false);
        }

        public override int Read(Span<byte> buffer)
        {
            if (buffer.Length == 0) return 0;
            fixed (byte* dst = buffer)
            fixed (byte* src = _in)
            {
                while (true)
                {
                    if (_inPos == _inLen && !_eof)
                    {
                        _inLen = _inner.Read(_in, 0, _in.Length);
                        _inPos = 0;
                        if (_inLen == 0) _eof = true;
                    }
                    var input = new InBuffer { Src = src + _inPos, Size = (nuint)(_inLen - _inPos) };
                    var output = new OutBuffer { Dst = dst, Size = (nuint)buffer.Length };
                    var hint = Check(ZSTD_decompressStream(_ds.DangerousGetHandle(), &output, &input));
                    _inPos += (int)input.Pos;
                    // After a frame's end, the decoder asks for the next frame's header: that hint means nothing at EOF.
                    if (input.Pos > 0 || output.Pos > 0) _frameComplete = hint == 0;
                    if (output.Pos > 0) return (int)output.Pos;
                    if (_eof && _inPos == _inLen)
                    {
                        if (!_frameComplete) throw new InvalidDataException("zstd: the compressed data ends in the middle of a frame (truncated file).");
                        return 0;
                    }
                }
            }
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing) { _ds.Dispose(); _inner.Dispose(); }
            base.Dispose(disposing);
        }

    }
}
