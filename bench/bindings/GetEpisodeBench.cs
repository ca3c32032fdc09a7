// Per-call cost of gm_get_episode through the C# binding (Mono): the same
// loop as get_episode.c, through Store.GetEpisodeView (no copy) and
// Store.GetEpisode (copied into managed objects). Prints ns per call.
using System;
using System.Diagnostics;
using Gmstore;

static class GetEpisodeBench
{
    static int Main(string[] args)
    {
        long n = long.Parse(args[1]);
        long sum = 0;
        using (var store = Store.Open(args[0]))
        {
            for (int variant = 0; variant < 2; variant++)
            {
                var watch = new Stopwatch();
                for (long i = -n / 10; i < n; i++)
                {
                    if (i == 0) watch.Start();
                    long id = 1 + Math.Abs(i) % 1000;
                    if (variant == 0)
                    {
                        using (var view = store.GetEpisodeView(id)) sum += view.Id;
                    }
                    else
                    {
                        sum += store.GetEpisode(id).Id;
                    }
                }
                watch.Stop();
                Console.WriteLine((variant == 0 ? "csharp_view " : "csharp_copy ") + (watch.Elapsed.TotalMilliseconds * 1e6 / n).ToString("F1"));
            }
        }
        return sum > 0 ? 0 : 1;
    }
}
