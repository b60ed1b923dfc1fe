using System.Runtime.Versioning;

// These tests drive the published server as an operator would on Linux/macOS: Unix sockets,
// Unix file modes, SIGTERM through `kill`.
[assembly: UnsupportedOSPlatform("windows")]
