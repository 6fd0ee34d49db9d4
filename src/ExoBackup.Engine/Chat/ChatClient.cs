using MongoDB.Bson;
using MongoDB.Driver;
using MongoDB.Driver.Core.Configuration;

namespace ExoBackup.Engine.Chat;

/// <summary>The MongoDB client of a chat target, and the guard that turns the driver's failures into ExoBackup errors.</summary>
public static class ChatClient
{
    public static MongoClient Create(ChatTarget t) => new(Settings(t));

    /// <summary>
    /// The target's hosts (one: a direct connection), or for mongodb+srv:// its name, whose SRV record the
    /// driver looks up when it connects, with TLS as that scheme has by default; 10 s to connect.
    /// </summary>
    internal static MongoClientSettings Settings(ChatTarget t)
    {
        var settings = t.Srv
            ? new MongoClientSettings { Scheme = ConnectionStringScheme.MongoDBPlusSrv, Servers = [new MongoServerAddress(t.Hosts.Single(), 53)], UseTls = true }
            : new MongoClientSettings
            {
                Servers = t.Hosts.Select(h => { var i = h.LastIndexOf(':'); return i > 0 ? new MongoServerAddress(h[..i], int.Parse(h[(i + 1)..])) : new MongoServerAddress(h); }),
                DirectConnection = t.Hosts.Count == 1,
            };
        settings.ServerSelectionTimeout = TimeSpan.FromSeconds(10);
        settings.ConnectTimeout = TimeSpan.FromSeconds(10);
        settings.ApplicationName = "ExoBackup";
        if (t.User is not null) settings.Credential = MongoCredential.CreateCredential(t.AuthDatabase, t.User, t.Password ?? "");
        return settings;
    }

    static ExoBackupException Describe(Exception e, ChatTarget t) => e switch
    {
        MongoAuthenticationException => Errors.DatabaseAuthenticationFailedChat(
            $"{t.Describe()} refused user '{t.User}' (authentication database {t.AuthDatabase}).", t.Describe(), e),
        TimeoutException or MongoConnectionException => Errors.DatabaseUnreachableChat($"Cannot reach {t.Describe()}: {e.Message}", t.Describe(), e),
        _ => Errors.DatabaseError($"{t.Describe()}: {e.Message}", t.Describe(), e),
    };

    internal static T Guard<T>(ChatTarget t, Func<T> f)
    {
        try { return f(); }
        catch (Exception e) when (e is MongoException or TimeoutException) { throw Describe(e, t); }
    }

    /// <summary>The collections and views of a database, as listCollections describes them (options, type, uuid).</summary>
    internal static List<BsonDocument> ListCollections(IMongoDatabase db, ChatTarget t, CancellationToken ct) =>
        Guard(t, () => db.RunCommand<BsonDocument>(new BsonDocument("listCollections", 1), cancellationToken: ct)["cursor"]["firstBatch"].AsBsonArray.Select(x => x.AsBsonDocument).ToList());

    /// <summary>Lists the databases: the server answers and the credentials work, or a clear error says which not.</summary>
    public static void Ping(ChatTarget t, CancellationToken ct) => Guard(t, () => Create(t).ListDatabaseNames(ct).ToList());
}
