using System.Globalization;
using System.Text;

namespace ExoBackup.Engine.Platform;

/// <summary>
/// A Java .properties file as java.util.Properties reads it: '=', ':' or blank separators,
/// '#' and '!' comments, backslash line continuation and \uXXXX escapes. Keeps the line of each key
/// so errors can point at it.
/// </summary>
public sealed class JavaProperties
{
    readonly Dictionary<string, (string Value, int Line)> _values = new(StringComparer.Ordinal);

    public string? File { get; private init; }

    public static JavaProperties Empty { get; } = new();

    public static JavaProperties Load(string file)
    {
        string text;
        try { text = IO.BoundedRead.Text(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Errors.ConfigurationUnreadable(file, e);
        }
        var p = Parse(text);
        return new JavaProperties { File = file }.With(p);
    }

    JavaProperties With(JavaProperties other)
    {
        foreach (var kv in other._values) _values[kv.Key] = kv.Value;
        return this;
    }

    public static JavaProperties Parse(string text)
    {
        var props = new JavaProperties();
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var line = lines[i].TrimStart(' ', '\t', '\f');
            if (line.Length == 0 || line[0] == '#' || line[0] == '!') continue;
            var logical = new StringBuilder();
            while (true)
            {
                var backslashes = 0;
                for (var k = line.Length - 1; k >= 0 && line[k] == '\\'; k--) backslashes++;
                if (backslashes % 2 == 1 && i + 1 < lines.Length)
                {
                    logical.Append(line, 0, line.Length - 1);
                    line = lines[++i].TrimStart(' ', '\t', '\f');
                    continue;
                }
                logical.Append(backslashes % 2 == 1 ? line[..^1] : line);
                break;
            }
            var s = logical.ToString();
            var keyEnd = 0;
            while (keyEnd < s.Length)
            {
                var c = s[keyEnd];
                if (c == '\\') { keyEnd += 2; continue; }
                if (c is '=' or ':' or ' ' or '\t' or '\f') break;
                keyEnd++;
            }
            keyEnd = Math.Min(keyEnd, s.Length);
            var valStart = keyEnd;
            while (valStart < s.Length && s[valStart] is ' ' or '\t' or '\f') valStart++;
            if (valStart < s.Length && s[valStart] is '=' or ':') valStart++;
            while (valStart < s.Length && s[valStart] is ' ' or '\t' or '\f') valStart++;
            var key = Unescape(s[..keyEnd]);
            props._values[key] = (Unescape(s[valStart..]), lineNo);
        }
        return props;
    }

    static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c != '\\' || i + 1 >= s.Length) { sb.Append(c); continue; }
            var n = s[++i];
            switch (n)
            {
                case 't': sb.Append('\t'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 'f': sb.Append('\f'); break;
                case 'u' when i + 4 < s.Length &&
                              int.TryParse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                    sb.Append((char)code); i += 4; break;
                default: sb.Append(n); break;
            }
        }
        return sb.ToString();
    }

    public string? this[string key] => _values.TryGetValue(key, out var v) ? v.Value : null;

    public int? LineOf(string key) => _values.TryGetValue(key, out var v) ? v.Line : null;

    public IEnumerable<string> Keys => _values.Keys;

    public bool Contains(string key) => _values.ContainsKey(key);
}
