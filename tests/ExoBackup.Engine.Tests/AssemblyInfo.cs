// The engine's tests run on Linux only: they create Unix modes, symlinks, other users' files and
// child processes as the eXo tools do there. This also tells the platform analyzer so (CA1416).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
