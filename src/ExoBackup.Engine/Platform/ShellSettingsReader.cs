using System.Text;

namespace ExoBackup.Engine.Platform;

/// <summary>A variable assigned by a setenv-customize script, with where it was assigned.</summary>
public sealed record ShellAssignment(string Name, string Value, string File, int Line);

/// <summary>
/// Reads the variable assignments an admin writes in bin/setenv-customize.sh or .bat, the way
/// the shell would evaluate them for the simple statements eXo's sample uses: plain, quoted and
/// exported assignments, $VAR / ${VAR} / ${VAR:-default} / %VAR% expansion, inline comments.
/// Control flow (if, case, functions) is not executed: a line we cannot read is skipped with a
/// note, never guessed at.
/// </summary>
public static class ShellSettingsReader
{
    public static IReadOnlyDictionary<string, ShellAssignment> ReadPosix(string file, IReadOnlyDictionary<string, string> scope, List<string>? notes = null)
    {
        var vars = new Dictionary<string, string>(scope, StringComparer.Ordinal);
        var result = new Dictionary<string, ShellAssignment>(StringComparer.Ordinal);
        var lines = ReadLogicalLines(file, '\\');
        foreach (var (text, lineNo) in lines)
        {
            var line = text.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            // "[ -z $X ] && X=..." and "test ... && X=..." assign only when the test holds; we
            // evaluate the common "-z" form, which is what eXo's own setenv.sh uses.
            if (line.StartsWith("[", StringComparison.Ordinal) || line.StartsWith("test ", StringComparison.Ordinal))
            {
                var amp = line.IndexOf("&&", StringComparison.Ordinal);
                if (amp < 0) continue;
                var test = line[..amp].Trim();
                var m = System.Text.RegularExpressions.Regex.Match(test, @"-z\s+""?\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?""?");
                if (!m.Success) { notes?.Add($"{file}:{lineNo}: condition not evaluated: {Shorten(line)}"); continue; }
                if (vars.TryGetValue(m.Groups[1].Value, out var cur) && cur.Length > 0) continue;
                line = line[(amp + 2)..].Trim();
            }
            foreach (var statement in SplitStatements(line))
            {
                var st = statement.Trim();
                if (st.StartsWith("export ", StringComparison.Ordinal)) st = st[7..].TrimStart();
                else if (st.StartsWith("declare -x ", StringComparison.Ordinal)) st = st[11..].TrimStart();
                else if (st.StartsWith("readonly ", StringComparison.Ordinal)) st = st[9..].TrimStart();
                var eq = st.IndexOf('=');
                if (eq <= 0 || !IsName(st.AsSpan(0, eq))) continue;
                var name = st[..eq];
                var value = EvaluatePosixWord(st[(eq + 1)..], vars);
                vars[name] = value;
                result[name] = new ShellAssignment(name, value, file, lineNo);
            }
        }
        return result;
    }

    public static IReadOnlyDictionary<string, ShellAssignment> ReadBatch(string file, IReadOnlyDictionary<string, string> scope)
    {
        var vars = new Dictionary<string, string>(scope, StringComparer.OrdinalIgnoreCase);
        var result = new Dictionary<string, ShellAssignment>(StringComparer.OrdinalIgnoreCase);
        var lines = ReadLogicalLines(file, '^');
        foreach (var (text, lineNo) in lines)
        {
            var line = text.Trim().TrimStart('@');
            if (line.Length == 0 || line.StartsWith("::", StringComparison.Ordinal)) continue;
            if (line.StartsWith("REM", StringComparison.OrdinalIgnoreCase) && (line.Length == 3 || char.IsWhiteSpace(line[3]))) continue;
            // "IF NOT DEFINED X SET X=..." assigns only when X is unset.
            var ifm = System.Text.RegularExpressions.Regex.Match(line, @"^IF\s+NOT\s+DEFINED\s+(\S+)\s+(.*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
            if (ifm.Success)
            {
                if (vars.ContainsKey(ifm.Groups[1].Value)) continue;
                line = ifm.Groups[2].Value.Trim();
            }
            if (!line.StartsWith("SET ", StringComparison.OrdinalIgnoreCase)) continue;
            var body = line[4..].Trim();
            if (body.StartsWith("/", StringComparison.Ordinal)) continue; // SET /A, SET /P: not plain assignments
            if (body.StartsWith('"'))
            {
                var close = body.LastIndexOf('"');
                body = close > 0 ? body[1..close] : body[1..];
            }
            var eq = body.IndexOf('=');
            if (eq <= 0) continue;
            var name = body[..eq].Trim();
            var value = ExpandBatch(body[(eq + 1)..], vars);
            vars[name] = value;
            result[name] = new ShellAssignment(name, value, file, lineNo);
        }
        return result;
    }

    static List<(string Text, int Line)> ReadLogicalLines(string file, char continuation)
    {
        var raw = IO.BoundedRead.Text(file).Split('\n');
        var list = new List<(string, int)>();
        var sb = new StringBuilder();
        var start = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var l = raw[i].TrimEnd('\r');
            if (sb.Length == 0) start = i + 1;
            if (l.EndsWith(continuation) && !l.TrimStart().StartsWith('#'))
            {
                sb.Append(l, 0, l.Length - 1);
                continue;
            }
            sb.Append(l);
            list.Add((sb.ToString(), start));
            sb.Clear();
        }
        if (sb.Length > 0) list.Add((sb.ToString(), start));
        return list;
    }

    /// <summary>Splits "A=1; B=2" at unquoted semicolons and drops an unquoted trailing comment.</summary>
    static IEnumerable<string> SplitStatements(string line)
    {
        var sb = new StringBuilder();
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == '\\' && quote == '"' && i + 1 < line.Length) { sb.Append(c).Append(line[++i]); continue; }
                if (c == quote) quote = '\0';
                sb.Append(c);
                continue;
            }
            if (c == '\\' && i + 1 < line.Length) { sb.Append(c).Append(line[++i]); continue; }
            if (c == '"' || c == '\'') { quote = c; sb.Append(c); continue; }
            if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1]))) break;
            if (c == ';' || (c == '&' && i + 1 < line.Length && line[i + 1] == '&')) { if (c == '&') i++; yield return sb.ToString(); sb.Clear(); continue; }
            sb.Append(c);
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    /// <summary>Evaluates the right-hand side of an assignment: quotes, escapes and parameter expansion.</summary>
    internal static string EvaluatePosixWord(string word, IReadOnlyDictionary<string, string> vars)
    {
        var sb = new StringBuilder();
        var i = 0;
        word = word.TrimEnd();
        // An unquoted value ends at the first unquoted blank (the rest would be a command).
        char quote = '\0';
        if (word.StartsWith('~') && (word.Length == 1 || word[1] == '/'))
        {
            sb.Append(vars.TryGetValue("HOME", out var home) ? home : "~");
            i = 1;
        }
        for (; i < word.Length; i++)
        {
            var c = word[i];
            if (quote == '\'')
            {
                if (c == '\'') quote = '\0'; else sb.Append(c);
                continue;
            }
            if (c == '\\')
            {
                if (i + 1 < word.Length) sb.Append(word[++i]);
                continue;
            }
            if (c == '"') { quote = quote == '"' ? '\0' : '"'; continue; }
            if (c == '\'' && quote == '\0') { quote = '\''; continue; }
            if (c == '$') { i = ExpandParameter(word, i, vars, sb); continue; }
            if (quote == '\0' && char.IsWhiteSpace(c)) break;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>How deep ${A:-${B:-…}} may nest: each level copies the rest of the line, so 20,000 levels cost 3.6 GB (finding 2.9).</summary>
    const int MaxNesting = 32;

    [ThreadStatic] static int _nesting;

    static int ExpandParameter(string s, int dollar, IReadOnlyDictionary<string, string> vars, StringBuilder sb)
    {
        var i = dollar + 1;
        if (i >= s.Length) { sb.Append('$'); return dollar; }
        if (s[i] == '{')
        {
            if (++_nesting > MaxNesting)
            {
                _nesting = 0;
                throw Errors.ConfigurationMalformedNesting(MaxNesting);
            }
            try { return ExpandBraced(s, dollar, i, vars, sb); }
            finally { if (_nesting > 0) _nesting--; }
        }
        var j = i;
        while (j < s.Length && (char.IsLetterOrDigit(s[j]) || s[j] == '_')) j++;
        if (j == i) { sb.Append('$'); return dollar; }
        if (vars.TryGetValue(s[i..j], out var v)) sb.Append(v);
        return j - 1;
    }

    static int ExpandBraced(string s, int dollar, int i, IReadOnlyDictionary<string, string> vars, StringBuilder sb)
    {
        var close = FindBrace(s, i);
        if (close < 0) { sb.Append(s, dollar, s.Length - dollar); return s.Length; }
        var inner = s[(i + 1)..close];
        var n = 0;
        while (n < inner.Length && (char.IsLetterOrDigit(inner[n]) || inner[n] == '_')) n++;
        var name = inner[..n];
        var rest = inner[n..];
        vars.TryGetValue(name, out var val);
        if (rest.StartsWith(":-", StringComparison.Ordinal) || rest.StartsWith(":=", StringComparison.Ordinal))
            sb.Append(string.IsNullOrEmpty(val) ? EvaluatePosixWord(rest[2..], vars) : val);
        else if (rest.StartsWith('-') || rest.StartsWith('='))
            sb.Append(val ?? EvaluatePosixWord(rest[1..], vars));
        else if (rest.StartsWith(":+", StringComparison.Ordinal))
            sb.Append(string.IsNullOrEmpty(val) ? "" : EvaluatePosixWord(rest[2..], vars));
        else
            sb.Append(val);
        return close;
    }

    static int FindBrace(string s, int open)
    {
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            if (s[i] == '{') depth++;
            else if (s[i] == '}' && --depth == 0) return i;
        }
        return -1;
    }

    internal static string ExpandBatch(string value, IReadOnlyDictionary<string, string> vars)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '%')
            {
                var close = value.IndexOf('%', i + 1);
                if (close > i + 1)
                {
                    var name = value[(i + 1)..close];
                    if (vars.TryGetValue(name, out var v)) { sb.Append(v); i = close; continue; }
                    // Unknown variables expand to nothing in a batch file.
                    if (!name.Contains(' ')) { i = close; continue; }
                }
            }
            sb.Append(value[i]);
        }
        return sb.ToString().TrimEnd();
    }

    static bool IsName(ReadOnlySpan<char> s)
    {
        if (s.Length == 0 || !(char.IsAsciiLetter(s[0]) || s[0] == '_')) return false;
        foreach (var c in s) if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    static string Shorten(string s) => s.Length > 80 ? s[..77] + "..." : s;

    /// <summary>Finds -Dname=value options in a JVM options string (CATALINA_OPTS, JAVA_OPTS).</summary>
    public static IReadOnlyDictionary<string, string> SystemProperties(string? options)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(options)) return d;
        foreach (var token in SplitWords(options))
        {
            if (!token.StartsWith("-D", StringComparison.Ordinal)) continue;
            var eq = token.IndexOf('=');
            if (eq < 3) { d[token[2..]] = ""; continue; }
            d[token[2..eq]] = token[(eq + 1)..];
        }
        return d;
    }

    static IEnumerable<string> SplitWords(string s)
    {
        var sb = new StringBuilder();
        char quote = '\0';
        foreach (var c in s)
        {
            if (quote != '\0') { if (c == quote) quote = '\0'; else sb.Append(c); continue; }
            if (c is '"' or '\'') { quote = c; continue; }
            if (char.IsWhiteSpace(c)) { if (sb.Length > 0) { yield return sb.ToString(); sb.Clear(); } continue; }
            sb.Append(c);
        }
        if (sb.Length > 0) yield return sb.ToString();
    }
}
