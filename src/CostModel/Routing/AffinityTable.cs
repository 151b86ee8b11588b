using System.Collections.Concurrent;

namespace CostModel.Routing;

/// <summary>
/// Affinity key -> target, with a time to live and a bound on the number of keys
/// (<see cref="RoutingOptions.MaxAffinityKeys"/>). An entry holds its target's state, so an entry
/// whose target the router forgot (it left the view) is told apart from one whose target came back
/// with a new state, and <see cref="Purge"/> drops both kinds of dead entry.
/// </summary>
internal sealed class AffinityTable
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    /// <summary>The key's target id, while the entry is live; an entry past its time to live is removed.</summary>
    public string? Get(string key, long now, long ttlTicks)
    {
        if (_entries.TryGetValue(key, out Entry? entry))
        {
            if (now - Volatile.Read(ref entry.LastUsed) <= ttlTicks)
            {
                return Volatile.Read(ref entry.Target).TargetId;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        return null;
    }

    /// <summary>Sets the key's target; returns false when the table is full of live keys and the key is new.</summary>
    public bool Set(string key, TargetState target, long now, long ttlTicks, int maxKeys)
    {
        if (_entries.TryGetValue(key, out Entry? existing))
        {
            Volatile.Write(ref existing.Target, target);
            Volatile.Write(ref existing.LastUsed, now);
            return true;
        }

        if (_entries.Count >= maxKeys)
        {
            Purge(now, ttlTicks);
            if (_entries.Count >= maxKeys)
            {
                return false;
            }
        }

        _entries[key] = new Entry { Target = target, LastUsed = now };
        return true;
    }

    /// <summary>
    /// Removes the entries past their time to live and those whose target was forgotten (it left
    /// the view: the conversation's cache went with the node). O(keys): called when the table is
    /// full and on the router's periodic sweep, never per decision.
    /// </summary>
    /// <returns>How many entries were removed.</returns>
    public int Purge(long now, long ttlTicks)
    {
        int removed = 0;
        foreach (KeyValuePair<string, Entry> pair in _entries)
        {
            if ((now - Volatile.Read(ref pair.Value.LastUsed) > ttlTicks || Volatile.Read(ref pair.Value.Target).IsForgotten)
                && _entries.TryRemove(pair))
            {
                removed++;
            }
        }

        return removed;
    }

    private sealed class Entry
    {
        public TargetState Target = null!;
        public long LastUsed;
    }
}
