using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

public class ShellSettingsReaderTests
{
    static readonly Dictionary<string, string> Scope = new() { ["HOME"] = "/home/exo", ["CATALINA_BASE"] = "/opt/exo" };

    static IReadOnlyDictionary<string, ShellAssignment> Posix(string text, IReadOnlyDictionary<string, string>? scope = null)
    {
        using var dir = new TempDir();
        var file = dir.Write("setenv-customize.sh", text);
        return ShellSettingsReader.ReadPosix(file, scope ?? Scope);
    }

    [Theory]
    [InlineData("EXO_DATA_DIR=/srv/exo", "/srv/exo")]
    [InlineData("EXO_DATA_DIR=\"/srv/exo data\"", "/srv/exo data")]
    [InlineData("EXO_DATA_DIR='/srv/$HOME'", "/srv/$HOME")]
    [InlineData("export EXO_DATA_DIR=/srv/exo", "/srv/exo")]
    [InlineData("export EXO_DATA_DIR=\"${HOME}/.eXo-platform/data\"", "/home/exo/.eXo-platform/data")]
    [InlineData("EXO_DATA_DIR=$CATALINA_BASE/../data", "/opt/exo/../data")]
    [InlineData("EXO_DATA_DIR=~/data", "/home/exo/data")]
    [InlineData("EXO_DATA_DIR=/srv/exo # the data", "/srv/exo")]
    [InlineData("EXO_DATA_DIR=${UNSET_VAR:-/fallback}", "/fallback")]
    [InlineData("EXO_DATA_DIR=${HOME:-/fallback}/d", "/home/exo/d")]
    [InlineData("  EXO_DATA_DIR=/a; EXO_CONF_DIR=/b", "/a")]
    public void Reads_assignments_as_the_shell_would(string line, string expected)
    {
        Assert.Equal(expected, Posix(line)["EXO_DATA_DIR"].Value);
    }

    [Fact]
    public void Ignores_comments_and_commented_assignments()
    {
        var v = Posix("# EXO_DATA_DIR=/no\n#EXO_DATA_DIR=\"${HOME}/.eXo-platform/data\"\necho hello\n");
        Assert.False(v.ContainsKey("EXO_DATA_DIR"));
    }

    [Fact]
    public void Later_assignments_win_and_see_earlier_ones()
    {
        var v = Posix("BASE=/srv\nEXO_DATA_DIR=$BASE/one\nEXO_DATA_DIR=$EXO_DATA_DIR-two\n");
        Assert.Equal("/srv/one-two", v["EXO_DATA_DIR"].Value);
        Assert.Equal(3, v["EXO_DATA_DIR"].Line);
    }

    [Fact]
    public void Appends_to_catalina_opts_across_continued_lines()
    {
        var v = Posix("CATALINA_OPTS=\"$CATALINA_OPTS -Dexo.data.dir=/data/exo \\\n  -Dexo.files.storage.dir=/nfs/files\"\n",
            new Dictionary<string, string>(Scope) { ["CATALINA_OPTS"] = "-Xmx1g" });
        var props = ShellSettingsReader.SystemProperties(v["CATALINA_OPTS"].Value);
        Assert.Equal("/data/exo", props["exo.data.dir"]);
        Assert.Equal("/nfs/files", props["exo.files.storage.dir"]);
    }

    [Fact]
    public void Evaluates_the_z_test_of_setenv_sh()
    {
        var unset = Posix("[ -z $EXO_DATA_DIR ] && EXO_DATA_DIR=\"$CATALINA_BASE/gatein/data\"\n");
        Assert.Equal("/opt/exo/gatein/data", unset["EXO_DATA_DIR"].Value);
        var set = Posix("EXO_DATA_DIR=/mine\n[ -z \"$EXO_DATA_DIR\" ] && EXO_DATA_DIR=\"$CATALINA_BASE/gatein/data\"\n");
        Assert.Equal("/mine", set["EXO_DATA_DIR"].Value);
    }

    [Theory]
    [InlineData("SET EXO_DATA_DIR=D:\\exo\\data", "D:\\exo\\data")]
    [InlineData("set \"EXO_DATA_DIR=D:\\exo data\"", "D:\\exo data")]
    [InlineData("SET EXO_DATA_DIR=%HOMEPATH%\\eXo-platform\\data", "\\Users\\exo\\eXo-platform\\data")]
    [InlineData("IF NOT DEFINED EXO_DATA_DIR SET EXO_DATA_DIR=%CATALINA_BASE%\\gatein\\data", "C:\\exo\\gatein\\data")]
    public void Reads_batch_assignments(string line, string expected)
    {
        using var dir = new TempDir();
        var file = dir.Write("setenv-customize.bat", "@echo off\r\nREM SET EXO_DATA_DIR=%HOMEPATH%\\no\r\n:: comment\r\n" + line + "\r\n");
        var v = ShellSettingsReader.ReadBatch(file, new Dictionary<string, string> { ["HOMEPATH"] = "\\Users\\exo", ["CATALINA_BASE"] = "C:\\exo" });
        Assert.Equal(expected, v["EXO_DATA_DIR"].Value);
    }

    [Fact]
    public void System_properties_are_read_from_jvm_options()
    {
        var p = ShellSettingsReader.SystemProperties("-Xmx2g -Dexo.data.dir=\"/srv/my data\" -Dflag -Dexo.conf.dir=/etc/exo");
        Assert.Equal("/srv/my data", p["exo.data.dir"]);
        Assert.Equal("/etc/exo", p["exo.conf.dir"]);
        Assert.Equal("", p["flag"]);
    }
}
