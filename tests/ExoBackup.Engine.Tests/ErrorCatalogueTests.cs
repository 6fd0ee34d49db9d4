using System.Reflection;

namespace ExoBackup.Engine.Tests;

/// <summary>
/// The catalogue of errors, read by reflection: every factory of <see cref="Errors"/> is called with
/// placeholder arguments, and what it makes must carry its id, a kind and something to do about it.
/// (tests/Architecture.Tests.ps1 checks that the README's table lists every id of the catalogue.)
/// </summary>
public class ErrorCatalogueTests
{
    static List<MethodInfo> Factories() =>
        typeof(Errors).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(ExoBackupException)).ToList();

    /// <summary>A value of each type a factory takes; a new type needs a line here (the test says which).</summary>
    static object?[] Placeholders(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner) return Placeholders(inner);
        if (t == typeof(string) || t == typeof(object)) return ["placeholder"];
        if (t == typeof(int) || t == typeof(long)) return [3];
        if (t == typeof(bool)) return [false, true];
        if (t.IsEnum) return Enum.GetValues(t).Cast<object?>().ToArray();
        if (t == typeof(TimeSpan)) return [TimeSpan.FromSeconds(90)];
        if (t == typeof(Version)) return [new Version(14, 2)];
        if (typeof(Exception).IsAssignableFrom(t)) return [Activator.CreateInstance(t, "placeholder failure")];
        if (t.IsAssignableFrom(typeof(string[]))) return [new[] { "first", "second" }];
        throw new InvalidOperationException($"No placeholder for {t}: add one to {nameof(Placeholders)}.");
    }

    /// <summary>Every way of calling the factory with placeholders: optional parameters left out and given, each value of a bool or an enum.</summary>
    static IEnumerable<object?[]> Calls(MethodInfo factory)
    {
        IEnumerable<object?[]> calls = [[]];
        foreach (var p in factory.GetParameters())
        {
            var values = Placeholders(p.ParameterType).Concat(p.HasDefaultValue ? [p.DefaultValue] : Array.Empty<object?>()).ToList();
            calls = calls.SelectMany(c => values.Select(v => c.Append(v).ToArray())).ToList();
        }
        return calls;
    }

    static List<(MethodInfo Factory, ExoBackupException Error)> Made() =>
        Factories().SelectMany(f => Calls(f).Select(args => (f, (ExoBackupException)f.Invoke(null, args)!))).ToList();

    [Fact]
    public void Every_factory_makes_an_id_of_ExoBackup_a_kind_a_message_and_an_action()
    {
        var made = Made();
        Assert.True(Factories().Count > 60, $"only {Factories().Count} factories found");
        foreach (var (f, e) in made)
        {
            Assert.StartsWith("ExoBackup.", e.ErrorId);
            Assert.True(Enum.IsDefined(e.Kind), $"{f.Name}: kind {(int)e.Kind}");
            Assert.False(string.IsNullOrWhiteSpace(e.Message), $"{f.Name} has no message");
            Assert.False(string.IsNullOrWhiteSpace(e.RecommendedAction), $"{f.Name} has no recommended action");
        }
    }

    [Fact]
    public void A_factory_always_makes_the_same_id_and_kind_and_is_named_after_its_id()
    {
        foreach (var group in Made().GroupBy(x => x.Factory.Name))
        {
            var ids = group.Select(x => x.Error.ErrorId).Distinct().ToList();
            Assert.True(ids.Count == 1, $"{group.Key} makes {string.Join(", ", ids)}");
            Assert.Single(group.Select(x => x.Error.Kind).Distinct());
            // ConfigurationMalformedXml makes ExoBackup.ConfigurationMalformed: the call site names the id it raises.
            Assert.StartsWith(ids[0]["ExoBackup.".Length..], group.Key, StringComparison.Ordinal);
        }
    }
}
