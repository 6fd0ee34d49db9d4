using System.Text;

namespace ExoBackup.Engine.IO;

/// <summary>
/// Reads settings files the eXo account writes (server.xml, *.properties, setenv scripts, the
/// edition jar's platform.properties) with a size cap: root's discovery runs before every backup, and a
/// file made large enough (a 2.6 MB jar inflating to 2.5 GiB) ended it in OutOfMemoryException (finding 2.9).
/// </summary>
public static class BoundedRead
{
    /// <summary>Far above any real eXo settings file (server.xml is a few KiB).</summary>
    public const int MaxSettingsBytes = 4 << 20;

    /// <summary>The whole file as UTF-8 text, or ExoBackup.ConfigurationMalformed when it is larger than <paramref name="max"/>.</summary>
    public static string Text(string file, int max = MaxSettingsBytes)
    {
        using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return Text(fs, file, max);
    }

    /// <summary>A stream read to its end, at most <paramref name="max"/> bytes; <paramref name="shown"/> names it in the error.</summary>
    public static string Text(Stream stream, string shown, int max = MaxSettingsBytes)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + n > max) throw Errors.ConfigurationMalformedSize(shown, max);
            buffer.Write(chunk, 0, n);
        }
        return new UTF8Encoding(false).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
