using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

public class JavaPropertiesTests
{
    [Fact]
    public void Reads_every_separator_comment_and_escape()
    {
        var p = JavaProperties.Parse(
            "# comment\n! also a comment\na=1\nb : 2\nc 3\n  d=  spaced value  \ne=multi \\\n   line\nf=caf\\u00e9\ng=C\\:\\\\dir\nkey\\ with\\ space=x\nempty=\n");
        Assert.Equal("1", p["a"]);
        Assert.Equal("2", p["b"]);
        Assert.Equal("3", p["c"]);
        Assert.Equal("spaced value  ", p["d"]);
        Assert.Equal("multi line", p["e"]);
        Assert.Equal("café", p["f"]);
        Assert.Equal("C:\\dir", p["g"]);
        Assert.Equal("x", p["key with space"]);
        Assert.Equal("", p["empty"]);
        Assert.Equal(7, p.LineOf("e"));
        Assert.Null(p["missing"]);
    }

    [Fact]
    public void A_truncated_unicode_escape_does_not_throw()
    {
        var p = JavaProperties.Parse("a=\\u12\nb=\\");
        Assert.NotNull(p["a"]);
        Assert.NotNull(p["b"]);
    }
}
