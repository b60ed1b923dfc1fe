namespace Mogplex.Storage;

/// <summary>The store could not answer (locked, unreachable). Maps to 503 SERVICE_UNAVAILABLE.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A uniqueness rule was violated (e.g. a user name that already exists).</summary>
public sealed class DuplicateEntryException(string message, Exception? inner = null) : Exception(message, inner);
