using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;

namespace ExoBackup.TestSupport;

/// <summary>
/// A MongoDB stand-in for tests, in memory: the handshake (legacy OP_QUERY hello and OP_MSG),
/// SCRAM-SHA-256 authentication, and the commands a backup and a restore use: ping, buildInfo,
/// listDatabases, listCollections, listIndexes, find/getMore/killCursors with real batching, renameCollection,
/// insert, create (capped collections and views), createIndexes, drop, dropDatabase, endSessions.
/// What it does not prove: query operators, aggregation, replication, transactions, real storage.
/// </summary>
public sealed class MongoTestServer : IDisposable
{
    sealed class Collection
    {
        public BsonDocument Options = new();
        public List<BsonDocument> Docs = [];
        public List<BsonDocument> Indexes = [new BsonDocument { { "v", 2 }, { "key", new BsonDocument("_id", 1) }, { "name", "_id_" } }];
        public Guid Uuid = Guid.NewGuid();
        public bool IsView => Options.Contains("viewOn");
    }

    readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Collection>> _dbs = new();
    readonly ConcurrentDictionary<long, (Queue<BsonDocument> Remaining, string Ns)> _cursors = new();
    readonly TcpListener _listener;
    readonly CancellationTokenSource _stop = new();
    readonly string? _user, _password;
    long _nextCursor = 1000, _connectionId;

    public int Port { get; }
    public int CommandCount;

    public MongoTestServer(int port = 0, string? user = null, string? password = null)
    {
        _user = user;
        _password = password;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoop);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    /// <summary>Direct access for tests: insert documents without going through the wire.</summary>
    public void Seed(string db, string collection, IEnumerable<BsonDocument> docs, BsonDocument? options = null)
    {
        var c = _dbs.GetOrAdd(db, _ => new()).GetOrAdd(collection, _ => new Collection());
        if (options is not null) c.Options = options;
        lock (c) c.Docs.AddRange(docs);
    }

    async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    sealed class Session
    {
        public bool Authenticated;
        public string? ClientFirstBare, ServerNonce, AuthMessage;
        public byte[]? SaltedPassword;
    }

    async Task Serve(TcpClient client)
    {
        using var owned = client;
        var stream = client.GetStream();
        var session = new Session { Authenticated = _user is null };
        var connectionId = Interlocked.Increment(ref _connectionId);
        var header = new byte[16];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await stream.ReadExactlyAsync(header, _stop.Token);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                var requestId = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4));
                var opCode = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
                var body = new byte[length - 16];
                await stream.ReadExactlyAsync(body, _stop.Token);
                byte[] reply;
                if (opCode == 2004) // OP_QUERY: the legacy handshake
                {
                    var pos = 4;
                    while (body[pos] != 0) pos++;
                    pos += 1 + 8;
                    var query = Read(body, pos, out _);
                    var doc = query.Contains("$query") ? query["$query"].AsBsonDocument : query;
                    reply = OpReply(requestId, Execute(doc, session, connectionId, "admin"));
                }
                else if (opCode == 2013) // OP_MSG
                {
                    var pos = 4;
                    BsonDocument? command = null;
                    var sequences = new Dictionary<string, BsonArray>();
                    while (pos < body.Length)
                    {
                        var kind = body[pos++];
                        if (kind == 0) { command = Read(body, pos, out var n); pos += n; }
                        else
                        {
                            var size = BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(pos));
                            var end = pos + size;
                            var idStart = pos + 4;
                            var idEnd = idStart;
                            while (body[idEnd] != 0) idEnd++;
                            var id = Encoding.UTF8.GetString(body, idStart, idEnd - idStart);
                            var arr = new BsonArray();
                            var p = idEnd + 1;
                            while (p < end) { arr.Add(Read(body, p, out var n)); p += n; }
                            sequences[id] = arr;
                            pos = end;
                        }
                    }
                    foreach (var (k, v) in sequences) command![k] = v;
                    reply = OpMsg(requestId, Execute(command!, session, connectionId, command!.GetValue("$db", "admin").AsString));
                }
                else throw new InvalidDataException($"opcode {opCode} not supported");
                await stream.WriteAsync(reply, _stop.Token);
            }
        }
        catch (Exception) { } // the client closed the connection
    }

    static BsonDocument Read(byte[] buffer, int offset, out int length)
    {
        length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(offset));
        using var ms = new MemoryStream(buffer, offset, length);
        return BsonSerializer.Deserialize<BsonDocument>(ms);
    }

    static byte[] OpMsg(int responseTo, BsonDocument doc)
    {
        var bson = doc.ToBson();
        var msg = new byte[16 + 4 + 1 + bson.Length];
        BinaryPrimitives.WriteInt32LittleEndian(msg, msg.Length);
        BinaryPrimitives.WriteInt32LittleEndian(msg.AsSpan(8), responseTo);
        BinaryPrimitives.WriteInt32LittleEndian(msg.AsSpan(12), 2013);
        msg[20] = 0;
        bson.CopyTo(msg, 21);
        return msg;
    }

    static byte[] OpReply(int responseTo, BsonDocument doc)
    {
        var bson = doc.ToBson();
        var msg = new byte[16 + 20 + bson.Length];
        BinaryPrimitives.WriteInt32LittleEndian(msg, msg.Length);
        BinaryPrimitives.WriteInt32LittleEndian(msg.AsSpan(8), responseTo);
        BinaryPrimitives.WriteInt32LittleEndian(msg.AsSpan(12), 1);
        BinaryPrimitives.WriteInt32LittleEndian(msg.AsSpan(32), 1); // numberReturned
        bson.CopyTo(msg, 36);
        return msg;
    }

    static BsonDocument Error(int code, string name, string message) =>
        new() { { "ok", 0.0 }, { "errmsg", message }, { "code", code }, { "codeName", name } };

    BsonDocument Execute(BsonDocument cmd, Session session, long connectionId, string db)
    {
        Interlocked.Increment(ref CommandCount);
        var name = cmd.GetElement(0).Name;
        switch (name.ToLowerInvariant())
        {
            case "hello":
            case "ismaster":
                var hello = new BsonDocument
                {
                    { "helloOk", true }, { "isWritablePrimary", true }, { "ismaster", true },
                    { "maxBsonObjectSize", 16 * 1024 * 1024 }, { "maxMessageSizeBytes", 48000000 }, { "maxWriteBatchSize", 100000 },
                    { "localTime", DateTime.UtcNow }, { "logicalSessionTimeoutMinutes", 30 }, { "connectionId", connectionId },
                    { "minWireVersion", 0 }, { "maxWireVersion", 17 }, { "readOnly", false }, { "ok", 1.0 },
                };
                if (cmd.Contains("saslSupportedMechs")) hello["saslSupportedMechs"] = new BsonArray { "SCRAM-SHA-256" };
                return hello;
            case "saslstart":
                return SaslStart(cmd, session);
            case "saslcontinue":
                return SaslContinue(cmd, session);
            case "ping":
                return new BsonDocument("ok", 1.0);
            case "endsessions":
                return new BsonDocument("ok", 1.0);
        }
        if (!session.Authenticated) return Error(13, "Unauthorized", $"command {name} requires authentication");
        switch (name)
        {
            case "buildInfo":
            case "buildinfo":
                return new BsonDocument { { "version", "6.0.99-exobackup-test" }, { "versionArray", new BsonArray { 6, 0, 99, 0 } }, { "ok", 1.0 } };
            case "listDatabases":
                return new BsonDocument
                {
                    { "databases", new BsonArray(_dbs.Keys.Order().Select(d => new BsonDocument { { "name", d }, { "sizeOnDisk", 0L }, { "empty", _dbs[d].IsEmpty } })) },
                    { "totalSize", 0L }, { "ok", 1.0 },
                };
            case "listCollections":
            {
                var colls = _dbs.TryGetValue(db, out var d) ? d : new();
                var docs = colls.OrderBy(k => k.Key).Select(k => new BsonDocument
                {
                    { "name", k.Key }, { "type", k.Value.IsView ? "view" : "collection" }, { "options", k.Value.Options },
                    { "info", new BsonDocument { { "readOnly", k.Value.IsView }, { "uuid", new BsonBinaryData(k.Value.Uuid, GuidRepresentation.Standard) } } },
                }).ToList();
                if (cmd.Contains("filter") && cmd["filter"].AsBsonDocument.TryGetValue("name", out var only))
                    docs = docs.Where(x => x["name"] == only).ToList();
                return Cursor(docs, $"{db}.$cmd.listCollections", int.MaxValue);
            }
            case "listIndexes":
            {
                var c = Find(db, cmd[0].AsString);
                if (c is null) return Error(26, "NamespaceNotFound", "ns does not exist");
                return Cursor(c.Indexes.Select(i => i.DeepClone().AsBsonDocument).ToList(), $"{db}.{cmd[0].AsString}", int.MaxValue);
            }
            case "find":
            {
                var c = Find(db, cmd[0].AsString);
                List<BsonDocument> docs;
                if (c is null) docs = [];
                else lock (c) docs = c.Docs.ToList();
                var batch = cmd.Contains("batchSize") ? cmd["batchSize"].ToInt32() : 101;
                return Cursor(docs, $"{db}.{cmd[0].AsString}", batch);
            }
            case "getMore":
            {
                var id = cmd[0].ToInt64();
                if (!_cursors.TryGetValue(id, out var cursor)) return Error(43, "CursorNotFound", $"cursor id {id} not found");
                var size = cmd.Contains("batchSize") ? cmd["batchSize"].ToInt32() : int.MaxValue;
                var next = new BsonArray();
                long bytes = 0;
                while (cursor.Remaining.Count > 0 && next.Count < size && bytes < 16 * 1024 * 1024)
                {
                    var d = cursor.Remaining.Dequeue();
                    bytes += d.ToBson().Length;
                    next.Add(d);
                }
                if (cursor.Remaining.Count == 0) _cursors.TryRemove(id, out _);
                return new BsonDocument
                {
                    { "cursor", new BsonDocument { { "nextBatch", next }, { "id", cursor.Remaining.Count == 0 ? 0L : id }, { "ns", cursor.Ns } } }, { "ok", 1.0 },
                };
            }
            case "killCursors":
                foreach (var id in cmd["cursors"].AsBsonArray) _cursors.TryRemove(id.ToInt64(), out _);
                return new BsonDocument { { "cursorsKilled", cmd["cursors"] }, { "ok", 1.0 } };
            case "insert":
            {
                var c = _dbs.GetOrAdd(db, _ => new()).GetOrAdd(cmd[0].AsString, _ => new Collection());
                var docs = cmd["documents"].AsBsonArray.Select(x => x.AsBsonDocument).ToList();
                lock (c)
                    foreach (var d in docs)
                    {
                        if (!d.Contains("_id")) d.InsertAt(0, new BsonElement("_id", ObjectId.GenerateNewId()));
                        c.Docs.Add(d);
                    }
                return new BsonDocument { { "n", docs.Count }, { "ok", 1.0 } };
            }
            case "create":
            {
                var colls = _dbs.GetOrAdd(db, _ => new());
                if (colls.ContainsKey(cmd[0].AsString)) return Error(48, "NamespaceExists", "Collection already exists");
                var options = new BsonDocument(cmd.Elements.Skip(1).Where(e => !e.Name.StartsWith('$') && e.Name is not ("lsid" or "writeConcern")));
                colls[cmd[0].AsString] = new Collection { Options = options };
                return new BsonDocument("ok", 1.0);
            }
            case "createIndexes":
            {
                var c = _dbs.GetOrAdd(db, _ => new()).GetOrAdd(cmd[0].AsString, _ => new Collection());
                foreach (var i in cmd["indexes"].AsBsonArray)
                {
                    var spec = i.AsBsonDocument.DeepClone().AsBsonDocument;
                    if (!spec.Contains("v")) spec.InsertAt(0, new BsonElement("v", 2));
                    lock (c) if (!c.Indexes.Any(x => x["name"] == spec["name"])) c.Indexes.Add(spec);
                }
                return new BsonDocument("ok", 1.0);
            }
            case "drop":
                return _dbs.TryGetValue(db, out var dd) && dd.TryRemove(cmd[0].AsString, out _)
                    ? new BsonDocument("ok", 1.0) : Error(26, "NamespaceNotFound", "ns not found");
            case "dropDatabase":
                _dbs.TryRemove(db, out _);
                return new BsonDocument("ok", 1.0);
            case "renameCollection":
            {
                // Within one database, as the staged chat restore uses it: {renameCollection: "db.from", to: "db.to", dropTarget}.
                static (string Db, string Coll) Ns(string ns) => (ns[..ns.IndexOf('.')], ns[(ns.IndexOf('.') + 1)..]);
                var (fromDb, fromColl) = Ns(cmd[0].AsString);
                var (toDb, toColl) = Ns(cmd["to"].AsString);
                if (fromDb != toDb) return Error(72, "InvalidOptions", "this test server renames within a database only");
                if (!_dbs.TryGetValue(fromDb, out var colls) || !colls.TryGetValue(fromColl, out var moving)) return Error(26, "NamespaceNotFound", "source namespace does not exist");
                if (colls.ContainsKey(toColl) && !cmd.GetValue("dropTarget", false).ToBoolean()) return Error(48, "NamespaceExists", "target namespace exists");
                colls[toColl] = moving;
                colls.TryRemove(fromColl, out _);
                return new BsonDocument("ok", 1.0);
            }
            case "count":
            {
                var c = Find(db, cmd[0].AsString);
                return new BsonDocument { { "n", c?.Docs.Count ?? 0 }, { "ok", 1.0 } };
            }
            default:
                return Error(59, "CommandNotFound", $"no such command: '{name}'");
        }
    }

    Collection? Find(string db, string coll) => _dbs.TryGetValue(db, out var d) && d.TryGetValue(coll, out var c) ? c : null;

    BsonDocument Cursor(List<BsonDocument> docs, string ns, int batch)
    {
        var first = new BsonArray();
        var rest = new Queue<BsonDocument>(docs);
        long bytes = 0;
        while (rest.Count > 0 && first.Count < batch && bytes < 16 * 1024 * 1024)
        {
            var d = rest.Dequeue();
            bytes += d.ToBson().Length;
            first.Add(d);
        }
        long id = 0;
        if (rest.Count > 0)
        {
            id = Interlocked.Increment(ref _nextCursor);
            _cursors[id] = (rest, ns);
        }
        return new BsonDocument { { "cursor", new BsonDocument { { "firstBatch", first }, { "id", id }, { "ns", ns } } }, { "ok", 1.0 } };
    }

    // --- SCRAM-SHA-256 (RFC 5802 / 7677) ---

    BsonDocument SaslStart(BsonDocument cmd, Session s)
    {
        if (cmd["mechanism"].AsString != "SCRAM-SHA-256") return Error(2, "BadValue", "mechanism not supported");
        var payload = Encoding.UTF8.GetString(cmd["payload"].AsByteArray);
        var bare = payload[(payload.IndexOf(",,", StringComparison.Ordinal) + 2)..];
        var fields = Fields(bare);
        if (fields.GetValueOrDefault("n") != _user) return Error(18, "AuthenticationFailed", "Authentication failed.");
        var salt = SHA256.HashData(Encoding.UTF8.GetBytes("exobackup-salt:" + _user))[..16];
        const int iterations = 4096;
        s.ClientFirstBare = bare;
        s.ServerNonce = fields["r"] + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        s.SaltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(_password ?? ""), salt, iterations, HashAlgorithmName.SHA256, 32);
        var serverFirst = $"r={s.ServerNonce},s={Convert.ToBase64String(salt)},i={iterations}";
        s.AuthMessage = bare + "," + serverFirst;
        return new BsonDocument { { "conversationId", 1 }, { "done", false }, { "payload", new BsonBinaryData(Encoding.UTF8.GetBytes(serverFirst)) }, { "ok", 1.0 } };
    }

    BsonDocument SaslContinue(BsonDocument cmd, Session s)
    {
        var payload = Encoding.UTF8.GetString(cmd["payload"].AsByteArray);
        if (s.Authenticated && payload.Length == 0)
            return new BsonDocument { { "conversationId", 1 }, { "done", true }, { "payload", new BsonBinaryData([]) }, { "ok", 1.0 } };
        var fields = Fields(payload);
        var withoutProof = payload[..payload.IndexOf(",p=", StringComparison.Ordinal)];
        if (fields.GetValueOrDefault("r") != s.ServerNonce || s.SaltedPassword is null) return Error(18, "AuthenticationFailed", "Authentication failed.");
        var authMessage = Encoding.UTF8.GetBytes(s.AuthMessage + "," + withoutProof);
        var clientKey = HMACSHA256.HashData(s.SaltedPassword, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var signature = HMACSHA256.HashData(storedKey, authMessage);
        var proof = Convert.FromBase64String(fields["p"]);
        var recovered = proof.Select((b, i) => (byte)(b ^ signature[i])).ToArray();
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(recovered), storedKey))
            return Error(18, "AuthenticationFailed", "Authentication failed.");
        var serverKey = HMACSHA256.HashData(s.SaltedPassword, "Server Key"u8);
        var serverSignature = HMACSHA256.HashData(serverKey, authMessage);
        s.Authenticated = true;
        return new BsonDocument
        {
            { "conversationId", 1 }, { "done", true },
            { "payload", new BsonBinaryData(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature))) }, { "ok", 1.0 },
        };
    }

    static Dictionary<string, string> Fields(string s) =>
        s.Split(',').Where(p => p.Length > 1 && p[1] == '=').ToDictionary(p => p[..1], p => p[2..]);
}

public static class Program
{
    /// <summary>dotnet MongoTestServer.dll [--port N] [--user U --password P]: prints "listening PORT", runs until stdin closes.</summary>
    public static void Main(string[] args)
    {
        string? Arg(string name) { var i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        using var server = new MongoTestServer(int.Parse(Arg("--port") ?? "0"), Arg("--user"), Arg("--password") ?? Environment.GetEnvironmentVariable("MONGO_TEST_PASSWORD"));
        // --seed N: an eXo-Chat-like database "chat": N messages, rooms, users, an empty collection.
        if (int.TryParse(Arg("--seed"), out var n))
        {
            server.Seed("chat", "messages", Enumerable.Range(0, n).Select(i => new BsonDocument
            {
                { "_id", ObjectId.GenerateNewId() }, { "room", $"room-{i % 20}" }, { "user", $"user{i % 50}" },
                { "message", $"message {i} — ünïcödé ✓" }, { "timestamp", new BsonDateTime(DateTime.UtcNow.AddSeconds(-i)) }, { "isSystem", i % 7 == 0 },
            }));
            server.Seed("chat", "room_rooms", Enumerable.Range(0, 20).Select(i => new BsonDocument { { "_id", $"room-{i}" }, { "name", $"Room {i}" } }));
            server.Seed("chat", "users", Enumerable.Range(0, 50).Select(i => new BsonDocument { { "_id", $"user{i}" }, { "fullname", $"User Ünïcödé {i}" } }));
            server.Seed("chat", "notifications", []);
        }
        Console.WriteLine($"listening {server.Port}");
        Console.Out.Flush();
        Console.In.ReadToEnd();
    }
}
