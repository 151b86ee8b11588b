using System.Collections.Concurrent;

namespace CostModel.Routing;

/// <summary>Affinity key -> target, with a time to live and a bound on the number of keys.</summary>
internal sealed class AffinityTable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public string? Get(string key, long now, long ttlTicks)
    {
        if (_entries.TryGetValue(key, out Entry? entry))
        {
            if (now - Volatile.Read(ref entry.LastUsed) <= ttlTicks)
            {
                return Volatile.Read(ref entry.Target);
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        return null;
    }

    /// <summary>Sets the key's target; returns false when the table is full of live keys and the key is new.</summary>
    public bool Set(string key, string target, long now, long ttlTicks, int maxKeys)
    {
        if (_entries.TryGetValue(key, out Entry? existing))
        {
            Volatile.Write(ref existing.Target, target);
            Volatile.Write(ref existing.LastUsed, now);
            return true;
        }

        if (_entries.Count >= maxKeys)
        {
            Sweep(now, ttlTicks);
            if (_entries.Count >= maxKeys)
            {
                return false;
            }
        }

        _entries[key] = new Entry { Target = target, LastUsed = now };
        return true;
    }

    private void Sweep(long now, long ttlTicks)
    {
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            if (now - Volatile.Read(ref pair.Value.LastUsed) > ttlTicks)
            {
                _entries.TryRemove(pair);
            }
        }
    }

    private sealed class Entry
    {
        public string Target = "";
        public long LastUsed;
    }
}
