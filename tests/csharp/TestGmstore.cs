// The C# binding's tests, run by `make test-csharp` with Mono: struct layouts
// against the C compiler, every area of the ABI, bad input, static strings
// under GC pressure, and a transaction continued on another thread by await.

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Gmstore;

static class TestGmstore
{
    static int passed, failed;

    static void Check(bool ok, string what)
    {
        if (ok) { passed++; return; }
        failed++;
        Console.Error.WriteLine("FAILED: " + what);
    }

    static GmException Throws(Action a)
    {
        try { a(); }
        catch (GmException e) { return e; }
        return null;
    }

    static int Main(string[] args)
    {
        string dir = args[0];
        Layouts(dir);
        using (var store = Store.Open(Path.Combine(dir, "cs.db")))
        {
            Episodes(store);
            Concepts(store);
            Learning(store);
            SqlAndMaintenance(store, dir);
            BadInput(store);
            StaticStrings();
            ExperienceFormat(store);
            AsyncTransactions(store).GetAwaiter().GetResult();
        }
        ClosedStore(dir);
        KnnSnapshot(dir);
        Replay(dir);
        Retention(dir);
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }

    // Every generated struct's size and field offsets equal the C compiler's.
    static void Layouts(string dir)
    {
        var structs = typeof(Store).Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsEnum && t.Name.StartsWith("gm_") && t.Namespace == "Gmstore").ToList();
        Check(structs.Count >= 30, "all structs generated");
        var c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include \"gmstore.h\"\nint main(void) {\n");
        foreach (var t in structs)
        {
            c.AppendFormat("printf(\"{0} size %zu\\n\", sizeof({0}));\n", t.Name);
            foreach (var f in t.GetFields())
            {
                // reserved3 is byte 3 of the C array `reserved` (reserved_tail3 of `reserved_tail`)
                var m = System.Text.RegularExpressions.Regex.Match(f.Name, @"^(reserved(?:_[a-z]+)?)(\d+)$");
                string cfield = m.Success ? m.Groups[1].Value + "[" + m.Groups[2].Value + "]" : f.Name;
                c.AppendFormat("printf(\"{0} {1} %zu\\n\", offsetof({0}, {2}));\n", t.Name, f.Name, cfield);
            }
        }
        c.Append("return 0; }\n");
        File.WriteAllText(Path.Combine(dir, "layout.c"), c.ToString());
        Run("cc", "-Wall -Werror -I include " + Path.Combine(dir, "layout.c") + " -o " + Path.Combine(dir, "layout"));
        int mismatches = 0;
        foreach (var line in Run(Path.Combine(dir, "layout"), "").Split('\n').Where(l => l.Length > 0))
        {
            var parts = line.Split(' ');
            var t = structs.First(s => s.Name == parts[0]);
            long want = long.Parse(parts[2]);
            long got = parts[1] == "size" ? Marshal.SizeOf(t) : Marshal.OffsetOf(t, parts[1]).ToInt64();
            if (got != want)
            {
                mismatches++;
                Console.Error.WriteLine(parts[0] + "." + parts[1] + ": C# " + got + ", C " + want);
            }
        }
        Check(mismatches == 0, "struct layouts match the C compiler");
    }

    static string Run(string exe, string args)
    {
        var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, UseShellExecute = false });
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Exception(exe + " failed");
        return output;
    }

    static void Episodes(Store store)
    {
        var data = new byte[] { 0, 1, 2, 255, 0 };
        long id = store.StoreEpisode(data, 0.85, "level_1", "{\"seed\": 7}", 1234.5);
        var e = store.GetEpisode(id);
        Check(e != null && e.ExperienceData.SequenceEqual(data) && e.PerformanceScore == 0.85 && e.Timestamp == 1234.5 &&
              e.ContextHash == "level_1" && e.MetadataJson == "{\"seed\": 7}", "episode round trip");
        Check(store.GetEpisode(987654) == null, "missing episode is null");
        using (var view = store.GetEpisodeView(id))
        {
            Check(view.Raw.id == id && view.Raw.experience_len.ToUInt64() == 5, "episode view");
        }
        var ids = store.StoreEpisodes(new[] { new byte[] { 1 }, new byte[] { 2 } }, new[] { 0.1, 0.9 }, new[] { "level_2", "level_2" });
        Check(ids.Length == 2 && ids[1] == ids[0] + 1, "batch ids in order");
        var byContext = store.GetEpisodesByContext("level_2", 10, 0.5);
        Check(byContext.Count == 1 && byContext[0].ExperienceData[0] == 2, "context query with min score");
        Check(store.CountEpisodes() == 3, "count episodes");
        Check(store.GetRecentEpisodes(1e12, 10).Count == 3, "recent episodes");
        // UTF-8 both ways, including characters outside the BMP
        string ctx = "niveau_é_日本_\U0001F600";
        long u = store.StoreEpisode(new byte[] { 9 }, 0.5, ctx);
        Check(store.GetEpisode(u).ContextHash == ctx, "UTF-8 round trip");
    }

    static void Concepts(Store store)
    {
        var v = new float[] { 0.1f, -2.5f, float.Epsilon, 3.4028235e38f };
        long a = store.StoreConcept("sword", v, "{\"kind\": \"weapon\"}");
        long b = store.StoreConcept("shield", new float[] { 1, 0, 0, 0 });
        var c = store.GetConceptByName("sword");
        bool bitExact = c.Embedding.Length == 4 && Enumerable.Range(0, 4).All(i => BitConverter.ToInt32(BitConverter.GetBytes(c.Embedding[i]), 0) == BitConverter.ToInt32(BitConverter.GetBytes(v[i]), 0));
        Check(bitExact && c.AccessCount == 1 && c.MetadataJson == "{\"kind\": \"weapon\"}", "concept floats bit-exact");
        Check(store.GetConcept(a).Id == a && store.GetConcept(424242) == null, "concept by id");
        Check(store.SearchConcepts("sh%", 10).Select(x => x.Name).SequenceEqual(new[] { "shield" }), "search LIKE");
        Check(store.SearchConcepts("sh%", 10, gm_name_match.GM_MATCH_LITERAL).Count == 0, "search literal");
        Check(store.CountConcepts() == 2 && store.EmbeddingDim() == 4, "concept counts and dimension");
        var near = store.NearestConcepts(new float[] { 1, 0, 0, 0 }, 1);
        Check(near.Count == 1 && near[0].Id == b && Math.Abs(near[0].Score - 1.0) < 1e-9, "nearest concept");
        var batch = store.NearestConceptsBatch(new float[] { 1, 0, 0, 0, 0, -1, 0, 0 }, 2, 1, gm_metric.GM_METRIC_DOT);
        Check(batch.Count == 2 && batch[0].Id == b && batch[1].Query == 1 && batch[1].Id == a, "batched k-NN");
        store.AddRelationship(a, b, "defends", 0.5);
        Check(store.GetRelationships(a).Single().TargetId == b, "relationship");
        Check(store.ConceptNeighborhood(a, 2).Any(r => r.Id == b && r.Hops == 1), "neighbourhood");
        var path = store.StrongestPath(a, b);
        Check(path != null && path.Ids.SequenceEqual(new[] { a, b }) && path.Strength == 0.5, "strongest path");
        Check(store.StrongestPath(b, a) == null, "no path is null");
        Check(store.BuildSimilarityGraph(0.99, 0, "similar") >= 0, "similarity graph");
    }

    static void Learning(Store store)
    {
        foreach (var d in new[] { 1.0, 2.0, 3.0, 4.0 }) store.StoreLearningEvent("task", d, "four", null, d);
        store.StoreLearningEvents(new[] { "task" }, new[] { 10.0 }, new[] { "once" });
        Check(store.GetLearningEventsByTask("task", 10).Count == 5, "events by task");
        Check(store.GetBestStrategies("task").First().Strategy == "once", "best strategies");
        var stats = store.StrategyStats("task");
        var four = stats.Single(s => s.Strategy == "four");
        Check(four.Count == 4 && four.Mean == 2.5 && Math.Abs(four.CiLow - (2.5 - 3.182446305284263 * Math.Sqrt(5.0 / 3.0) / 2)) < 1e-12,
              "strategy stats with Student-t interval");
        Check(double.IsNaN(stats.Single(s => s.Strategy == "once").StdDev), "single use has NaN spread");
        var q = new gm_strategy_query { order = (byte)gm_strategy_order.GM_STRATEGY_ORDER_LOWER_BOUND };
        Check(store.StrategyStats("task", q)[0].Strategy == "four", "lower-bound order");
        var pick = store.SuggestStrategy("task", new[] { "four", "fresh" });
        Check(pick.Strategy == "fresh" && pick.CandidateIndex == 1 && double.IsPositiveInfinity(pick.Score), "UCB1 tries the untried");
        var o = new gm_suggest_options { method = (byte)gm_suggest_method.GM_SUGGEST_THOMPSON, seed = 42 };
        Check(store.SuggestStrategy("task", null, o).Strategy == store.SuggestStrategy("task", null, o).Strategy, "Thompson seeded");
        Check(store.CountLearningEvents() == 5, "count events");
    }

    // The k-NN matrix written at close is what the next handle's first search reads.
    static void KnnSnapshot(string dir)
    {
        string db = Path.Combine(dir, "cs_knn.db"), snap = Path.Combine(dir, "cs_knn.snap");
        File.Delete(db);
        File.Delete(snap);
        using (var store = Store.Open(db))
        {
            for (int i = 0; i < 20; i++) store.StoreConcept("k" + i, new float[] { i, 1, 0, 0 });
            store.SetKnnSnapshot(snap);
            Check(store.KnnMatrixSource() == gm_matrix_source.GM_MATRIX_NOT_LOADED, "matrix not loaded yet");
            Check(store.NearestConcepts(new float[] { 19, 1, 0, 0 }, 1, gm_metric.GM_METRIC_L2)[0].Name == "k19", "nearest");
            Check(store.KnnMatrixSource() == gm_matrix_source.GM_MATRIX_BUILT, "matrix built");
        }
        Check(File.Exists(snap), "snapshot written at close");
        using (var store = Store.Open(db))
        {
            store.SetKnnSnapshot(snap);
            Check(store.NearestConcepts(new float[] { 7, 1, 0, 0 }, 1, gm_metric.GM_METRIC_L2)[0].Name == "k7", "nearest from snapshot");
            Check(store.KnnMatrixSource() == gm_matrix_source.GM_MATRIX_SNAPSHOT, "matrix read from the snapshot");
            Check(!store.SaveKnnSnapshot(), "nothing changed since");
            bool refused = false;
            try { store.SetKnnSnapshot("bad\0path"); }
            catch (ArgumentException e) { refused = e.ParamName == "path"; }
            Check(refused, "NUL in a snapshot path refused");
            store.SetKnnSnapshot(null);
        }
    }

    static void Replay(string dir)
    {
        string db = Path.Combine(dir, "cs_replay.db");
        File.Delete(db);
        using (var store = Store.Open(db))
        {
            var ids = new long[6];
            for (int i = 0; i < 6; i++) ids[i] = store.StoreEpisode(new byte[] { 1 }, i, i < 4 ? "play" : "other");
            Check(store.SetEpisodePriorities(new[] { ids[0] }, new[] { 0.0 }) == 1, "actor priority stored");
            using (var sampler = store.NewSampler(alpha: 1.0, context: "play", seed: 7))
            {
                var batch = sampler.Sample(3, 0.5, false);
                Check(batch.TableSize == 4, "sampler holds the context's episodes");
                bool distinct = batch.Samples[0].id != batch.Samples[1].id && batch.Samples[1].id != batch.Samples[2].id
                    && batch.Samples[0].id != batch.Samples[2].id;
                Check(distinct, "no repeats without replacement");
                foreach (var s in batch.Samples)
                    Check(s.id != ids[0] && Math.Abs(s.probability - 1.0 / 3) < 1e-12 && s.weight == 1.0, "drawn at the maximum");
                var updates = new[] {
                    new gm_priority_update { id = batch.Samples[0].id, generation = batch.Samples[0].generation, priority = 2.0 },
                    new gm_priority_update { id = batch.Samples[1].id, generation = batch.Samples[1].generation + 1, priority = 9.0 },
                };
                var stale = sampler.UpdatePriorities(updates);
                Check(stale.Count == 1 && stale[0] == 1, "a wrong generation is stale");
                Check(sampler.Flush() == 1, "one priority written");
                var withEpisodes = sampler.SampleEpisodes(5);
                bool aligned = withEpisodes.Episodes.Count == 5;
                for (int i = 0; aligned && i < 5; i++) aligned = withEpisodes.Episodes[i].Id == withEpisodes.Samples[i].id;
                Check(aligned, "episodes come with their samples, in draw order");
                var state = sampler.RngState();
                var first = sampler.Sample(8);
                sampler.SetRngState(state);
                var again = sampler.Sample(8);
                bool same = true;
                for (int i = 0; i < 8; i++) same &= first.Samples[i].id == again.Samples[i].id;
                Check(same, "a saved generator state repeats the draws");
                bool refused = false;
                try { sampler.Sample(1, -1.0); }
                catch (GmException e) { refused = e.Detail.Contains("beta"); }
                Check(refused, "negative beta refused, naming beta");
            }
        }
    }

    static void Retention(string dir)
    {
        string db = Path.Combine(dir, "cs_retention.db");
        File.Delete(db);
        using (var store = Store.Open(db))
        {
            var evicted = store.SetRetentionPolicy(maxEpisodes: 2, protectKey: "demo", protectValueJson: "true");
            Check(evicted.by_count == 0, "nothing to evict yet");
            long demo = store.StoreEpisode(new byte[] { 1 }, 0.0, "play", "{\"demo\": true}");
            long first = store.StoreEpisode(new byte[] { 1 }, 0.0, "play");
            store.StoreEpisode(new byte[] { 1 }, 0.0, "play");
            store.StoreEpisode(new byte[] { 1 }, 0.0, "play");
            Check(store.LastEvictions().by_count == 1, "the third unprotected episode evicts one");
            Check(store.GetEpisode(first) == null && store.GetEpisode(demo) != null, "the oldest went, the demonstration stayed");
            long episodes, bytes, total;
            Check(store.RetentionStatus(out episodes, out bytes, out total) && episodes == 2 && bytes == 2 && total == 1,
                  "the budget's counts");
            store.Execute("INSERT INTO episodes(timestamp, experience_data, performance_score, context_hash) VALUES (1, x'00', 0, 'raw')");
            gm_evictions plan;
            var ids = store.Prune(true, out plan);
            Check(ids.Length == 1 && plan.by_count == 1 && store.CountEpisodes() == 4, "a dry run lists and keeps");
            var done = store.Prune(false, out plan);
            Check(done.Length == 1 && done[0] == ids[0] && store.CountEpisodes() == 3, "a prune evicts the same");
            bool refused = false;
            try { store.SetRetentionPolicy(maxEpisodes: -1); }
            catch (GmException e) { refused = e.Detail.Contains("max_episodes"); }
            Check(refused, "a negative maximum refused, naming it");
            store.ClearRetentionPolicy();
            Check(!store.RetentionStatus(out episodes, out bytes, out total), "no policy after clearing");
        }
    }

    static void SqlAndMaintenance(Store store, string dir)
    {
        long changed = store.Execute("UPDATE episodes SET metadata = ? WHERE context_hash = ? AND performance_score > ?",
                                     "{\"k\": 1}", "level_2", 0.5);
        Check(changed == 1, "execute with parameters");
        var stats = store.GetStats();
        Check(stats.episodes_count == 4 && stats.concepts_count == 2 && stats.schema_version >= 6, "stats");
        string report;
        Check(store.IntegrityCheck(out report) == 0 && report == "ok", "integrity");
        string backup = store.CreateBackup(Path.Combine(dir, "cs_backup.db"));
        Check(File.Exists(backup), "backup written");
        Check(store.Checkpoint() >= 0, "checkpoint");
        store.VacuumInto(Path.Combine(dir, "cs_vacuumed.db"));
        Check(File.Exists(Path.Combine(dir, "cs_vacuumed.db")), "vacuum into");
    }

    static void BadInput(Store store)
    {
        long before = store.CountEpisodes();
        var e = Throws(() => store.StoreEpisode(new byte[] { 1 }, double.NaN, "c"));
        Check(e != null && e.Status == (uint)gm_status_code.GM_ERR_INVALID_ARGUMENT && e.StatusName == "GM_ERR_INVALID_ARGUMENT" &&
              e.Detail.Contains("performance_score"), "NaN score refused, field named");
        e = Throws(() => store.StoreConcept("x", new float[] { float.PositiveInfinity, 0, 0, 0 }));
        Check(e != null && e.Detail.Contains("embedding"), "infinite embedding refused");
        e = Throws(() => store.StoreConcept("x", new float[] { 1, 2 }));
        Check(e != null && e.Detail.Contains("dimension"), "wrong dimension refused: " + (e == null ? "" : e.Detail));
        e = Throws(() => store.AddRelationship(1, 424242, "r", 0.5));
        Check(e != null && e.Status == (uint)gm_status_code.GM_ERR_NOT_FOUND, "missing relationship target");
        e = Throws(() => store.SuggestStrategy("task", new string[0]));
        Check(e != null && e.Detail.Contains("candidates"), "empty candidate list refused");
        e = Throws(() => store.SuggestStrategy("task", null, new gm_suggest_options { prior_mean = double.NaN, has_prior_mean = 1 }));
        Check(e != null && e.Detail.Contains("options.prior_mean"), "NaN prior refused");
        bool argumentError = false;
        try { store.StoreEpisode(new byte[] { 1 }, 1, "a\0b"); } catch (ArgumentException) { argumentError = true; }
        Check(argumentError, "NUL inside a string refused before the call");
        e = Throws(() => store.Commit());
        Check(e != null && e.Status == (uint)gm_status_code.GM_ERR_MISUSE, "commit without a transaction");
        Check(LastError.Copy().Contains("commit"), "last error copy");
        Check(store.CountEpisodes() == before, "nothing stored by bad calls");
    }

    // Mono frees a returned `string`; these are IntPtr and must survive GC.
    static void StaticStrings()
    {
        for (int i = 0; i < 2000; i++)
        {
            if (Store.Version != Utf8.Static(Native.gm_version_string()) || Store.SqliteVersion.Length == 0 ||
                Utf8.Static(Native.gm_status_name(2)) != "GM_ERR_INVALID_ARGUMENT") { Check(false, "static strings"); return; }
            if (i % 500 == 0) GC.Collect();
        }
        Check(Store.Version == "0.2.0" && Native.gm_version() == 2000, "version " + Store.Version);
    }

    static void ExperienceFormat(Store store)
    {
        var obs = new float[] { 1.5f, -0.0f, float.MaxValue };
        var tensors = new[] { Tensor.Of("obs", obs) };
        var bytes = Experience.Encode(tensors, "{\"obs\": {\"$tensor\": \"obs\"}, \"reward\": 1.0}");
        var decoded = Experience.Decode(bytes);
        Check(decoded.Tensors.Length == 1 && decoded.Tensors[0].Data.SequenceEqual(tensors[0].Data) &&
              decoded.Tensors[0].Shape.SequenceEqual(new ulong[] { 3 }) && decoded.ValuesJson.Contains("reward"), "experience round trip");
        long id = store.StoreEpisodeTensors(tensors, "{\"obs\": {\"$tensor\": \"obs\"}}", 0.7, "tensors");
        var back = Experience.Decode(store.GetEpisode(id).ExperienceData);
        Check(back.Tensors[0].DType == gm_dtype.GM_DTYPE_F32 && back.Tensors[0].Data.SequenceEqual(tensors[0].Data), "tensor episode");
    }

    // The transaction begins on one thread and commits on another after await.
    static async Task AsyncTransactions(Store store)
    {
        long before = store.CountEpisodes();
        int firstThread, secondThread;
        using (var tx = store.BeginTransaction())
        {
            firstThread = Thread.CurrentThread.ManagedThreadId;
            tx.Run(s => s.StoreEpisode(new byte[] { 1 }, 0.5, "async"));
            await Task.Run(() => Thread.Sleep(20)).ConfigureAwait(false);
            await Task.Yield();
            secondThread = Thread.CurrentThread.ManagedThreadId;
            tx.Run(s => s.StoreEpisode(new byte[] { 2 }, 0.5, "async"));
            // Another thread outside the transaction sees nothing yet.
            long outside = await Task.Run(() => store.GetEpisodesByContext("async", 10).Count);
            Check(outside == 0, "uncommitted rows are invisible to other threads");
            tx.Commit();
        }
        Check(store.CountEpisodes() == before + 2, "both rows committed");
        Check(firstThread != secondThread, "the continuation ran on another thread (" + firstThread + " -> " + secondThread + ")");

        using (var tx = store.BeginTransaction())
        {
            tx.Run(s => s.StoreEpisode(new byte[] { 3 }, 0.5, "async"));
            await Task.Run(() => Thread.Sleep(5)).ConfigureAwait(false);
        } // disposed without commit: rolled back, on whatever thread we are now
        Check(store.CountEpisodes() == before + 2, "a disposed transaction rolls back");
        long direct = store.StoreEpisode(new byte[] { 4 }, 0.5, "after");
        Check(direct > 0, "the writer is free after the rollback");
    }

    static void ClosedStore(string dir)
    {
        var store = Store.Open(Path.Combine(dir, "closed.db"));
        store.Dispose();
        bool refused = false;
        try { store.CountEpisodes(); } catch (ObjectDisposedException) { refused = true; }
        Check(refused, "a disposed store refuses calls without touching freed memory");
        var e = Throws(() => Store.Open(dir));
        Check(e != null && e.Detail.Contains("directory"), "opening a directory is refused");
    }
}
