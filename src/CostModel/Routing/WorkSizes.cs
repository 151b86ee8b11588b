namespace CostModel.Routing;

/// <summary>
/// The sizes of the last requests a router weighed (<see cref="HerdSpread.Work"/>: seconds at the
/// scoring priors), and where a request's size falls among them by work: the share of their work in
/// larger requests (docs/routing.md, "Sorting the herd by size"). The herd's requests are taken to
/// be sized as this router's own, as its surge is taken to be the others'.
/// </summary>
/// <remarks>Not thread-safe: <see cref="HerdSpread"/> calls it under its gate. Allocation-free once built.</remarks>
internal sealed class WorkSizes
{
    /// <summary>
    /// 128 requests: the sizes kept (a ring; the oldest is replaced). About two minutes of a router
    /// placing a request a second, or a burst's first requests at every router of a quiet large mesh
    /// (each weighs every decision). A share read from 128 sizes of one distribution is within about
    /// 0.05 of the distribution's (the standard error of a share of 128 samples, at most
    /// sqrt(0.25 / 128) = 0.044), more where a few very large requests hold much of the work; the pass
    /// over them is a few hundred operations, paid only by a decision that weighs a herd.
    /// </summary>
    public const int Capacity = 128;

    private readonly double[] _sizes = new double[Capacity];
    private int _count;
    private int _next;

    /// <summary>How many sizes are kept (at most <see cref="Capacity"/>).</summary>
    public int Count => _count;

    /// <summary>
    /// Where <paramref name="work"/> falls among the sizes kept and itself, by work: from the share of
    /// their work in larger requests (<c>Low</c>) over the share in requests of its size, its own
    /// included (<c>Width</c>). 0 to a sliver for a request far larger than all, a sliver to 1 for one
    /// far smaller; 0 to 1 for a request among equals only (with nothing kept, or every request of one
    /// size), so that the caller, drawing a point within, spreads equals over the whole range. Then
    /// keeps it. A request whose size is not a positive finite number is placed anywhere (0 to 1) and
    /// not kept.
    /// </summary>
    /// <param name="work">The request's work, seconds at the scoring priors.</param>
    /// <returns>The lower end of its place and the place's width, both in [0, 1].</returns>
    public (double Low, double Width) Place(double work)
    {
        if (!(work > 0) || !double.IsFinite(work))
        {
            return (0, 1);
        }

        double sum = 0;
        double larger = 0;
        double equal = 0;
        for (int i = 0; i < _count; i++)
        {
            double size = _sizes[i];
            sum += size;
            if (size > work)
            {
                larger += size;
            }
            else if (size == work)
            {
                equal += size;
            }
        }

        double whole = sum + work;
        double low = Math.Clamp(larger / whole, 0, 1);
        double width = Math.Clamp((equal + work) / whole, 0, 1 - low);

        // The ring: the newest replaces the oldest.
        _sizes[_next] = work;
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
        return (low, width);
    }
}
