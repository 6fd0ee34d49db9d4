using System.Xml;
using System.Xml.Linq;

namespace ExoBackup.Engine.Platform;

/// <summary>A JNDI Resource of conf/server.xml's GlobalNamingResources.</summary>
public sealed record ServerXmlResource(string Name, IReadOnlyDictionary<string, string> Attributes, int Line);

/// <summary>The parts of Tomcat's conf/server.xml a backup needs: the shutdown port, the HTTP port, the datasources.</summary>
public sealed class ServerXml
{
    public required string File { get; init; }
    public int? ShutdownPort { get; init; }
    public string ShutdownCommand { get; init; } = "SHUTDOWN";
    public string ShutdownAddress { get; init; } = "localhost";
    public int? HttpPort { get; init; }
    public IReadOnlyDictionary<string, ServerXmlResource> Resources { get; init; } = new Dictionary<string, ServerXmlResource>();

    /// <param name="resolve">Expands ${...} placeholders the way Tomcat does, from system properties.</param>
    public static ServerXml Load(string file, Func<string, string> resolve)
    {
        XDocument doc;
        try
        {
            // Read once, bounded, then parsed from memory: no second look at a file the eXo account may swap.
            using var reader = XmlReader.Create(new StringReader(IO.BoundedRead.Text(file)), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            throw Errors.ConfigurationMalformedXml(file, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Errors.ConfigurationUnreadable(file, e);
        }

        var server = doc.Root;
        if (server is null || server.Name.LocalName != "Server")
            throw Errors.ConfigurationMalformedRoot(file, server?.Name.LocalName, Line(server));

        int? shutdownPort = null;
        var portAttr = server.Attribute("port")?.Value;
        if (portAttr is not null)
        {
            if (!int.TryParse(resolve(portAttr), out var sp))
                throw Errors.ConfigurationMalformedPort(file, Line(server), portAttr);
            shutdownPort = sp;
        }

        int? httpPort = null;
        foreach (var connector in server.Descendants().Where(e => e.Name.LocalName == "Connector"))
        {
            var protocol = connector.Attribute("protocol")?.Value ?? "HTTP/1.1";
            if (protocol.Contains("AJP", StringComparison.OrdinalIgnoreCase)) continue;
            if (connector.Attribute("SSLEnabled")?.Value.Equals("true", StringComparison.OrdinalIgnoreCase) == true && httpPort is not null) continue;
            if (int.TryParse(resolve(connector.Attribute("port")?.Value ?? ""), out var hp)) { httpPort = hp; break; }
        }

        var resources = new Dictionary<string, ServerXmlResource>(StringComparer.Ordinal);
        foreach (var gnr in server.Elements().Where(e => e.Name.LocalName == "GlobalNamingResources"))
        foreach (var res in gnr.Elements().Where(e => e.Name.LocalName == "Resource"))
        {
            var name = res.Attribute("name")?.Value;
            if (string.IsNullOrEmpty(name)) continue;
            var attrs = res.Attributes().ToDictionary(a => a.Name.LocalName, a => resolve(a.Value), StringComparer.OrdinalIgnoreCase);
            resources[name] = new ServerXmlResource(name, attrs, Line(res));
        }

        return new ServerXml
        {
            File = file,
            ShutdownPort = shutdownPort,
            ShutdownCommand = server.Attribute("shutdown")?.Value ?? "SHUTDOWN",
            ShutdownAddress = server.Attribute("address")?.Value ?? "localhost",
            HttpPort = httpPort,
            Resources = resources,
        };
    }

    static int Line(XObject? o) => o is IXmlLineInfo li && li.HasLineInfo() ? li.LineNumber : 0;
}
