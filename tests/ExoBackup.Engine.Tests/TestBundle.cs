using ExoBackup.Engine.Platform;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// An eXo bundle made by hand in a <see cref="TempDir"/>, no larger than a test needs: start_eXo.sh and
/// conf/server.xml, which are what discovery takes a folder for a bundle by, then whatever the test adds
/// (settings files, data, folders), one call each. The bundle that really starts, for the Pester
/// files, is tests/Support/New-ExoSampleBundle.ps1.
/// </summary>
/// <example><code>
/// var p = new TestBundle(_dir).DataFile("files/a.txt", "a").CodecKey("key").Discover();
/// </code></example>
public sealed class TestBundle
{
    /// <summary>A server.xml with no datasource and no shutdown port: the smallest one discovery takes.</summary>
    public const string MinimalServerXml = "<Server port=\"-1\"/>";

    /// <summary>The three datasources of the embedded default bundle, all in one HSQLDB file.</summary>
    public const string HsqldbResources = """
        <Resource name="exo-idm_portal" url="jdbc:hsqldb:file:${exo.data.dir}/hsql/exo-plf;shutdown=true" username="sa" password="" driverClassName="org.hsqldb.jdbc.JDBCDriver"/>
        <Resource name="exo-jcr_portal" url="jdbc:hsqldb:file:${exo.data.dir}/hsql/exo-plf;shutdown=true" username="sa" password=""/>
        <Resource name="exo-jpa_portal" url="jdbc:hsqldb:file:${exo.data.dir}/hsql/exo-plf;shutdown=true" username="sa" password=""/>
        """;

    readonly TempDir _dir;
    readonly string _home;

    /// <param name="dir">The folder the bundle is made in.</param>
    /// <param name="home">The bundle's folder inside <paramref name="dir"/>; "" makes <paramref name="dir"/> itself the bundle.</param>
    /// <param name="serverXml">The text of conf/server.xml (<see cref="ServerXml"/> makes one as eXo ships it).</param>
    public TestBundle(TempDir dir, string home = "exo", string serverXml = MinimalServerXml)
    {
        _dir = dir;
        _home = home;
        Home = Path.Combine(dir.Path, home);
        Write("start_eXo.sh", "#!/bin/bash\n");
        Write("conf/server.xml", serverXml);
    }

    /// <summary>The bundle's folder (CATALINA_BASE).</summary>
    public string Home { get; }

    /// <summary>The data dir where nothing moves it: gatein/data.</summary>
    public string DataDir => Path.Combine(Home, "gatein", "data");

    /// <summary>Writes a file at a path relative to the bundle (line breaks as \n).</summary>
    public TestBundle Write(string relative, string text)
    {
        _dir.Write(Path.Combine(_home, relative), text);
        return this;
    }

    public TestBundle ExoProperties(string text) => Write("gatein/conf/exo.properties", text);

    public TestBundle ChatProperties(string text) => Write("gatein/conf/chat.properties", text);

    /// <summary>bin/setenv-customize.sh, where an admin sets EXO_DATA_DIR, CATALINA_OPTS, CATALINA_PID.</summary>
    public TestBundle SetenvCustomize(string text) => Write("bin/setenv-customize.sh", text);

    public TestBundle CodecKey(string key) => Write("gatein/conf/codec/codeckey.txt", key);

    /// <summary>Writes a file at a path relative to the default data dir (gatein/data).</summary>
    public TestBundle DataFile(string relative, string text) => Write(Path.Combine("gatein", "data", relative), text);

    /// <summary>Creates a folder (and its parents) at a path relative to the bundle.</summary>
    public TestBundle Folder(string relative)
    {
        Directory.CreateDirectory(Path.Combine(Home, relative));
        return this;
    }

    /// <summary>
    /// A Tomcat server.xml as an eXo bundle has it: the shutdown port, the datasources (by default
    /// <see cref="HsqldbResources"/>) in GlobalNamingResources, an AJP and an HTTP connector.
    /// </summary>
    public static string ServerXml(string? resources = null, int shutdownPort = 8005)
    {
        resources ??= HsqldbResources;
        return $"""
            <?xml version="1.0" encoding="UTF-8"?>
            <Server port="{shutdownPort}" shutdown="SHUTDOWN">
              <GlobalNamingResources>
            {resources}
              </GlobalNamingResources>
              <Service name="Catalina">
                <Connector port="8009" protocol="AJP/1.3" />
                <Connector port="8080" protocol="HTTP/1.1" />
                <Engine name="Catalina" defaultHost="localhost"/>
              </Service>
            </Server>
            """;
    }

    /// <summary>Discovers the bundle with <paramref name="userHome"/> as HOME, the environment's only variable.</summary>
    public PlatformInfo Discover(string userHome = "/root") =>
        PlatformDiscovery.Discover(Home, new Dictionary<string, string> { ["HOME"] = userHome });
}
