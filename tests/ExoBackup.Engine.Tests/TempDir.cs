namespace ExoBackup.Engine.Tests;

/// <summary>A folder under the system temp dir, removed when the test ends.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "exobackup-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relative, string text)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text.Replace("\r\n", "\n"));
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Keeps the warnings an engine call gives, for tests that assert on them.</summary>
public sealed class WarningLog : IOperationLog
{
    public List<string> Warnings { get; } = [];
    public void Verbose(string message) { }
    public void Warning(string message) { lock (Warnings) Warnings.Add(message); }
    public void Progress(ProgressUpdate update) { }
}
