// gmstore for C# (Unity, Mono, .NET): one drop-in file for Assets/Plugins.
//
// C# 7.3, no Span, no unsafe code: every struct is blittable and every
// P/Invoke takes plain types, so Unity's IL2CPP and Mono call it directly.
// Put libgmstore.so (gmstore.dll, libgmstore.dylib) where the runtime finds
// native plugins. Ownership, lifetimes and threading: docs/ABI.md.
//
// - Store: a SafeHandle-backed store; every call throws GmException
//   (status code, status name, the library's message) on failure.
// - Strings cross as UTF-8 both ways, never through the runtime's string
//   marshalling (which frees the library's static strings on Mono).
// - Results are copied into managed objects and freed at once; the views
//   that are not (EpisodeView) are IDisposable.
// - Transaction: a thread-hopping transaction for async code (a `using`
//   scope with `await` inside).
//
// The region between the <generated> markers is generated from the header
// by scripts/gen_bindings.py (`make header`); the rest is written by hand.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace Gmstore
{
    public static partial class Native
    {
        /// <summary>The native library's name, as DllImport resolves it.</summary>
        public const string Lib = "gmstore";
    }

    /// <summary>The store handle. Released (gm_close) exactly once, when the
    /// last call using it has returned.</summary>
    public sealed class StoreHandle : SafeHandle
    {
        public StoreHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
        protected override bool ReleaseHandle()
        {
            Native.gm_close(handle);
            return true;
        }
    }

    /// <summary>A failed gmstore call: the status, its name and the library's
    /// message, which names the argument and the problem.</summary>
    public class GmException : Exception
    {
        public readonly uint Status;
        public readonly string StatusName;
        public readonly string Detail;

        public GmException(uint status, string detail)
            : base(Utf8.Static(Native.gm_status_name(status)) + ": " + detail)
        {
            Status = status;
            StatusName = Utf8.Static(Native.gm_status_name(status));
            Detail = detail;
        }

        internal static void Check(uint status)
        {
            if (status != (uint)gm_status_code.GM_OK)
            {
                throw new GmException(status, Utf8.Static(Native.gm_last_error_message()));
            }
        }
    }

    /// <summary>UTF-8 both ways, by hand.</summary>
    public static class Utf8
    {
        /// <summary>NUL-terminated UTF-8 for the library; null stays null.</summary>
        public static byte[] Z(string s, string field)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0) throw new ArgumentException(field + ": must not contain NUL characters", field);
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>A string of known byte length inside a library result.</summary>
        public static string Span(IntPtr p, UIntPtr len)
        {
            int n = checked((int)len.ToUInt64());
            if (p == IntPtr.Zero || n == 0) return "";
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>A NUL-terminated string the library keeps (static or
        /// thread-local): copied, never freed.</summary>
        public static string Static(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            return Span(p, (UIntPtr)n);
        }

        internal static byte[] Bytes(IntPtr p, UIntPtr len)
        {
            var bytes = new byte[checked((int)len.ToUInt64())];
            if (bytes.Length > 0) Marshal.Copy(p, bytes, 0, bytes.Length);
            return bytes;
        }
    }

    public sealed class Episode
    {
        public long Id;
        public double Timestamp, PerformanceScore, CreatedAt;
        public byte[] ExperienceData;
        public string ContextHash, MetadataJson;

        // Field offsets, read one field at a time: Marshal.PtrToStructure
        // costs more than the library call on Mono.
        static readonly int OffTimestamp = Off("timestamp"), OffScore = Off("performance_score"),
            OffCreated = Off("created_at"), OffData = Off("experience_data"), OffDataLen = Off("experience_len"),
            OffContext = Off("context_hash"), OffContextLen = Off("context_hash_len"), OffMeta = Off("metadata"),
            OffMetaLen = Off("metadata_len");

        static int Off(string field) { return Marshal.OffsetOf(typeof(gm_episode), field).ToInt32(); }
        static double F64(IntPtr p, int off) { return BitConverter.Int64BitsToDouble(Marshal.ReadInt64(p, off)); }
        static IntPtr Ptr(IntPtr p, int off) { return Marshal.ReadIntPtr(p, off); }
        static UIntPtr Len(IntPtr p, int off) { return (UIntPtr)(ulong)Marshal.ReadIntPtr(p, off).ToInt64(); }

        /// <summary>Copies the gm_episode at `p`.</summary>
        internal static Episode At(IntPtr p)
        {
            return new Episode
            {
                Id = Marshal.ReadInt64(p, 0), Timestamp = F64(p, OffTimestamp), PerformanceScore = F64(p, OffScore),
                CreatedAt = F64(p, OffCreated), ExperienceData = Utf8.Bytes(Ptr(p, OffData), Len(p, OffDataLen)),
                ContextHash = Utf8.Span(Ptr(p, OffContext), Len(p, OffContextLen)),
                MetadataJson = Utf8.Span(Ptr(p, OffMeta), Len(p, OffMetaLen)),
            };
        }

        internal static Episode From(gm_episode e)
        {
            return new Episode
            {
                Id = e.id, Timestamp = e.timestamp, PerformanceScore = e.performance_score, CreatedAt = e.created_at,
                ExperienceData = Utf8.Bytes(e.experience_data, e.experience_len),
                ContextHash = Utf8.Span(e.context_hash, e.context_hash_len),
                MetadataJson = Utf8.Span(e.metadata, e.metadata_len),
            };
        }
    }

    /// <summary>An episode read without copying: valid until Dispose frees it.</summary>
    public sealed class EpisodeView : IDisposable
    {
        private IntPtr ptr;
        internal EpisodeView(IntPtr p) { ptr = p; }
        private IntPtr Live
        {
            get
            {
                if (ptr == IntPtr.Zero) throw new ObjectDisposedException("EpisodeView");
                return ptr;
            }
        }
        /// <summary>The gm_episode itself (a copy of the struct, not of what it points to).</summary>
        public gm_episode Raw { get { return (gm_episode)Marshal.PtrToStructure(Live, typeof(gm_episode)); } }
        /// <summary>The pointer to the library's gm_episode, valid until Dispose.</summary>
        public IntPtr Pointer { get { return Live; } }
        public long Id { get { return Marshal.ReadInt64(Live, 0); } }
        public void Dispose()
        {
            Native.gm_episode_free(ptr);
            ptr = IntPtr.Zero;
        }
    }

    public sealed class Concept
    {
        public long Id, AccessCount;
        public double CreationTime, LastAccessed;
        public string Name, MetadataJson;
        public float[] Embedding;

        internal static Concept From(gm_concept c)
        {
            var embedding = new float[checked((int)c.embedding_len.ToUInt64())];
            if (embedding.Length > 0) Marshal.Copy(c.embedding, embedding, 0, embedding.Length);
            return new Concept
            {
                Id = c.id, AccessCount = c.access_count, CreationTime = c.creation_time, LastAccessed = c.last_accessed,
                Name = Utf8.Span(c.name, c.name_len), MetadataJson = Utf8.Span(c.metadata, c.metadata_len),
                Embedding = embedding,
            };
        }
    }

    public sealed class Relationship { public long TargetId; public double Strength; public string Type; }
    public sealed class Reached { public long Id; public uint Hops; public string Name; }
    public sealed class Neighbor { public long Id; public double Score; public ulong Query; public string Name; }
    public sealed class StrongestPath { public long[] Ids; public double Strength; }
    public sealed class LearningEvent
    {
        public long Id;
        public double PerformanceDelta, Timestamp;
        public string TaskType, StrategyUsed, ParametersJson;
    }
    public sealed class StrategyStat { public string Strategy; public double AvgDelta; public long UsageCount; }
    public sealed class StrategySummary
    {
        public string Strategy;
        public long Count;
        public double Mean, StdDev, StdError, CiLow, CiHigh, FirstUsed, LastUsed;
    }
    public sealed class Suggestion { public string Strategy; public double Score, Mean; public long Count, CandidateIndex; }

    /// <summary>A tensor to store: raw little-endian bytes with a dtype and shape.</summary>
    public sealed class Tensor
    {
        public string Name;
        public gm_dtype DType;
        public ulong[] Shape;
        public byte[] Data;

        public static Tensor Of(string name, float[] values)
        {
            var data = new byte[values.Length * 4];
            Buffer.BlockCopy(values, 0, data, 0, data.Length);
            return new Tensor { Name = name, DType = gm_dtype.GM_DTYPE_F32, Shape = new[] { (ulong)values.Length }, Data = data };
        }
    }

    /// <summary>A decoded experience: its tensors (bytes copied) and value tree.</summary>
    public sealed class DecodedExperience
    {
        public Tensor[] Tensors;
        public string ValuesJson;
    }

    /// <summary>Pins managed arrays for the duration of a call.</summary>
    internal sealed class Pins : IDisposable
    {
        private readonly List<GCHandle> handles = new List<GCHandle>();
        public IntPtr Pin(object array)
        {
            if (array == null) return IntPtr.Zero;
            var h = GCHandle.Alloc(array, GCHandleType.Pinned);
            handles.Add(h);
            return h.AddrOfPinnedObject();
        }
        public void Dispose()
        {
            foreach (var h in handles) h.Free();
            handles.Clear();
        }
    }

    /// <summary>Reads a gm_*_list into managed objects, then frees it.</summary>
    internal static class Lists
    {
        public static List<R> Map<T, R>(IntPtr list, Action<IntPtr> free, Func<T, R> convert) where T : struct
        {
            try
            {
                // items and len are the first two fields of every list struct;
                // the strings the items point to live until `free`.
                IntPtr items = Marshal.ReadIntPtr(list);
                int len = checked((int)Marshal.ReadIntPtr(list, IntPtr.Size).ToInt64());
                int size = Marshal.SizeOf(typeof(T));
                var result = new List<R>(len);
                for (int i = 0; i < len; i++)
                {
                    var item = (T)Marshal.PtrToStructure(new IntPtr(items.ToInt64() + (long)i * size), typeof(T));
                    result.Add(convert(item));
                }
                return result;
            }
            finally
            {
                free(list);
            }
        }
    }

    /// <summary>Options of Store.Open; Defaults() holds the library's defaults.</summary>
    public static class Options
    {
        public static gm_options Defaults()
        {
            gm_options o;
            GmException.Check(Native.gm_options_init(out o));
            return o;
        }
    }

    /// <summary>A store: an SQLite file (or a future server) holding episodes,
    /// concepts, learning events and relationships. Thread-safe.</summary>
    public sealed class Store : IDisposable
    {
        public readonly StoreHandle Handle;

        private Store(StoreHandle handle) { Handle = handle; }

        public static Store Open(string path, gm_options? options = null)
        {
            StoreHandle handle;
            var opts = options.HasValue ? new[] { options.Value } : null;
            GmException.Check(Native.gm_open(Utf8.Z(path, "path"), opts, out handle));
            return new Store(handle);
        }

        public void Dispose() { Handle.Dispose(); }

        public static string Version { get { return Utf8.Static(Native.gm_version_string()); } }
        public static string SqliteVersion { get { return Utf8.Static(Native.gm_sqlite_version()); } }

        private static double[] Opt(double? v) { return v.HasValue ? new[] { v.Value } : null; }

        // ---- episodes ----

        public long StoreEpisode(byte[] experience, double performanceScore, string contextHash,
                                 string metadataJson = null, double? timestamp = null)
        {
            using (var pins = new Pins())
            {
                var input = new gm_episode_input
                {
                    experience_data = pins.Pin(experience),
                    experience_len = (UIntPtr)(experience == null ? 0 : experience.Length),
                    performance_score = performanceScore,
                    timestamp = timestamp.GetValueOrDefault(),
                    has_timestamp = (byte)(timestamp.HasValue ? 1 : 0),
                    context_hash = pins.Pin(Utf8.Z(contextHash, "context_hash")),
                    metadata = pins.Pin(Utf8.Z(metadataJson, "metadata")),
                };
                long id;
                GmException.Check(Native.gm_store_episode(Handle, new[] { input }, out id));
                return id;
            }
        }

        /// <summary>Stores tensors and a JSON value tree (`{"$tensor": name}`
        /// marks where each tensor goes) as one episode, encoded by the library.</summary>
        public long StoreEpisodeTensors(Tensor[] tensors, string valuesJson, double performanceScore, string contextHash,
                                        string metadataJson = null, double? timestamp = null)
        {
            using (var pins = new Pins())
            {
                var raw = TensorInputs(tensors, pins);
                long id;
                GmException.Check(Native.gm_store_episode_tensors(Handle, raw, (UIntPtr)raw.Length,
                    Utf8.Z(valuesJson, "values_json"), performanceScore, Utf8.Z(contextHash, "context_hash"),
                    Utf8.Z(metadataJson, "metadata"), Opt(timestamp), out id));
                return id;
            }
        }

        internal static gm_tensor[] TensorInputs(Tensor[] tensors, Pins pins)
        {
            var raw = new gm_tensor[tensors == null ? 0 : tensors.Length];
            for (int i = 0; i < raw.Length; i++)
            {
                var t = tensors[i];
                raw[i] = new gm_tensor
                {
                    name = pins.Pin(Utf8.Z(t.Name, "tensors[" + i + "].name")), dtype = (uint)t.DType,
                    ndim = (uint)t.Shape.Length, shape = pins.Pin(t.Shape), data = pins.Pin(t.Data),
                    data_len = (UIntPtr)t.Data.Length,
                };
            }
            return raw;
        }

        /// <summary>Many episodes in one transaction, all or none; their ids in order.</summary>
        public long[] StoreEpisodes(byte[][] experiences, double[] scores, string[] contextHashes)
        {
            int n = experiences.Length;
            if (scores.Length != n || contextHashes.Length != n)
                throw new ArgumentException("experiences, scores and contextHashes must have one entry per episode");
            using (var pins = new Pins())
            {
                var inputs = new gm_episode_input[n];
                for (int i = 0; i < n; i++)
                {
                    inputs[i] = new gm_episode_input
                    {
                        experience_data = pins.Pin(experiences[i]), experience_len = (UIntPtr)experiences[i].Length,
                        performance_score = scores[i], context_hash = pins.Pin(Utf8.Z(contextHashes[i], "context_hash")),
                    };
                }
                var ids = new long[n];
                GmException.Check(Native.gm_store_episodes(Handle, inputs, (UIntPtr)n, ids));
                return ids;
            }
        }

        /// <summary>The episode, or null when there is none with this id.</summary>
        public Episode GetEpisode(long id)
        {
            IntPtr p;
            uint status = Native.gm_get_episode(Handle, id, out p);
            if (status == (uint)gm_status_code.GM_ERR_NOT_FOUND) return null;
            GmException.Check(status);
            try { return Episode.At(p); }
            finally { Native.gm_episode_free(p); }
        }

        /// <summary>The episode without copying it; dispose the view to free it.</summary>
        public EpisodeView GetEpisodeView(long id)
        {
            IntPtr p;
            GmException.Check(Native.gm_get_episode(Handle, id, out p));
            return new EpisodeView(p);
        }

        public List<Episode> GetEpisodesByContext(string contextHash, long limit = 100, double? minScore = null)
        {
            IntPtr list;
            GmException.Check(Native.gm_get_episodes_by_context(Handle, Utf8.Z(contextHash, "context_hash"), limit,
                Opt(minScore), out list));
            return Lists.Map<gm_episode, Episode>(list, Native.gm_episode_list_free, Episode.From);
        }

        public List<Episode> GetRecentEpisodes(double timeWindowSecs = 3600, long limit = 100)
        {
            IntPtr list;
            GmException.Check(Native.gm_get_recent_episodes(Handle, timeWindowSecs, limit, out list));
            return Lists.Map<gm_episode, Episode>(list, Native.gm_episode_list_free, Episode.From);
        }

        public long CountEpisodes()
        {
            long n;
            GmException.Check(Native.gm_count_episodes(Handle, out n));
            return n;
        }

        // ---- concepts and the graph ----

        public long StoreConcept(string name, float[] embedding, string metadataJson = null, double? creationTime = null)
        {
            long id;
            GmException.Check(Native.gm_store_concept(Handle, Utf8.Z(name, "name"), embedding,
                (UIntPtr)(embedding == null ? 0 : embedding.Length), Utf8.Z(metadataJson, "metadata"), Opt(creationTime),
                out id));
            return id;
        }

        private Concept OneConcept(uint status, IntPtr p)
        {
            if (status == (uint)gm_status_code.GM_ERR_NOT_FOUND) return null;
            GmException.Check(status);
            try { return Concept.From((gm_concept)Marshal.PtrToStructure(p, typeof(gm_concept))); }
            finally { Native.gm_concept_free(p); }
        }

        public Concept GetConcept(long id)
        {
            IntPtr p;
            uint status = Native.gm_get_concept(Handle, id, out p);
            return OneConcept(status, p);
        }

        /// <summary>The concept named so (counted as an access), or null.</summary>
        public Concept GetConceptByName(string name)
        {
            IntPtr p;
            uint status = Native.gm_get_concept_by_name(Handle, Utf8.Z(name, "name"), out p);
            return OneConcept(status, p);
        }

        public List<Concept> SearchConcepts(string query, long limit = 10, gm_name_match match = gm_name_match.GM_MATCH_LIKE)
        {
            IntPtr list;
            GmException.Check(Native.gm_search_concepts_matching(Handle, Utf8.Z(query, "query"), (uint)match, limit, out list));
            return Lists.Map<gm_concept, Concept>(list, Native.gm_concept_list_free, Concept.From);
        }

        public long CountConcepts()
        {
            long n;
            GmException.Check(Native.gm_count_concepts(Handle, out n));
            return n;
        }

        public ulong EmbeddingDim()
        {
            UIntPtr d;
            GmException.Check(Native.gm_embedding_dim(Handle, out d));
            return d.ToUInt64();
        }

        public void AddRelationship(long sourceId, long targetId, string type, double strength = 1.0)
        {
            GmException.Check(Native.gm_add_relationship(Handle, sourceId, targetId, Utf8.Z(type, "relationship_type"), strength));
        }

        public List<Relationship> GetRelationships(long conceptId, string type = null)
        {
            IntPtr list;
            GmException.Check(Native.gm_get_relationships(Handle, conceptId, Utf8.Z(type, "relationship_type"), out list));
            return Lists.Map<gm_relationship, Relationship>(list, Native.gm_relationship_list_free, r => new Relationship
            {
                TargetId = r.target_id, Strength = r.strength, Type = Utf8.Span(r.relationship_type, r.relationship_type_len),
            });
        }

        public List<Reached> ConceptNeighborhood(long conceptId, uint maxHops, string type = null, double minStrength = 0.0)
        {
            IntPtr list;
            GmException.Check(Native.gm_concept_neighborhood(Handle, conceptId, maxHops, Utf8.Z(type, "relationship_type"),
                minStrength, out list));
            return Lists.Map<gm_reached, Reached>(list, Native.gm_reached_list_free,
                r => new Reached { Id = r.id, Hops = r.hops, Name = Utf8.Span(r.name, r.name_len) });
        }

        /// <summary>The path with the greatest product of strengths, or null when none exists.</summary>
        public StrongestPath StrongestPath(long fromId, long toId, string type = null, double minStrength = 0.0)
        {
            IntPtr p;
            GmException.Check(Native.gm_strongest_path(Handle, fromId, toId, Utf8.Z(type, "relationship_type"), minStrength, out p));
            if (p == IntPtr.Zero) return null;
            try
            {
                var path = (gm_path)Marshal.PtrToStructure(p, typeof(gm_path));
                var ids = new long[checked((int)path.len.ToUInt64())];
                if (ids.Length > 0) Marshal.Copy(path.ids, ids, 0, ids.Length);
                return new StrongestPath { Ids = ids, Strength = path.strength };
            }
            finally { Native.gm_path_free(p); }
        }

        public List<Neighbor> NearestConcepts(float[] query, ulong k, gm_metric metric = gm_metric.GM_METRIC_COSINE,
                                              string namePattern = null)
        {
            using (var pins = new Pins())
            {
                IntPtr list;
                GmException.Check(Native.gm_nearest_concepts(Handle, query, (UIntPtr)query.Length, (uint)metric, (UIntPtr)k,
                    Filter(namePattern, pins), out list));
                return Neighbors(list);
            }
        }

        /// <summary>k-NN for `count` queries laid out row after row in `queries`.</summary>
        public List<Neighbor> NearestConceptsBatch(float[] queries, int count, ulong k,
                                                   gm_metric metric = gm_metric.GM_METRIC_COSINE, string namePattern = null)
        {
            if (count <= 0 || queries.Length % count != 0) throw new ArgumentException("queries: not `count` rows", "queries");
            using (var pins = new Pins())
            {
                IntPtr list;
                GmException.Check(Native.gm_nearest_concepts_batch(Handle, queries, (UIntPtr)count,
                    (UIntPtr)(queries.Length / count), (uint)metric, (UIntPtr)k, Filter(namePattern, pins), out list));
                return Neighbors(list);
            }
        }

        private static gm_search_filter[] Filter(string namePattern, Pins pins)
        {
            if (namePattern == null) return null;
            return new[] { new gm_search_filter { name_pattern = pins.Pin(Utf8.Z(namePattern, "filter.name_pattern")) } };
        }

        private static List<Neighbor> Neighbors(IntPtr list)
        {
            return Lists.Map<gm_neighbor, Neighbor>(list, Native.gm_neighbor_list_free,
                n => new Neighbor { Id = n.id, Score = n.score, Query = n.query, Name = Utf8.Span(n.name, n.name_len) });
        }

        public long BuildSimilarityGraph(double threshold, ulong topK = 0, string type = null)
        {
            long edges;
            GmException.Check(Native.gm_build_similarity_graph(Handle, threshold, (UIntPtr)topK,
                Utf8.Z(type, "relationship_type"), out edges));
            return edges;
        }

        // ---- learning ----

        public long StoreLearningEvent(string taskType, double performanceDelta, string strategyUsed,
                                       string parametersJson = null, double? timestamp = null)
        {
            long id;
            GmException.Check(Native.gm_store_learning_event(Handle, Utf8.Z(taskType, "task_type"), performanceDelta,
                Utf8.Z(strategyUsed, "strategy_used"), Utf8.Z(parametersJson, "parameters"), Opt(timestamp), out id));
            return id;
        }

        public long[] StoreLearningEvents(string[] taskTypes, double[] deltas, string[] strategies)
        {
            int n = taskTypes.Length;
            using (var pins = new Pins())
            {
                var inputs = new gm_learning_event_input[n];
                for (int i = 0; i < n; i++)
                {
                    inputs[i] = new gm_learning_event_input
                    {
                        task_type = pins.Pin(Utf8.Z(taskTypes[i], "task_type")), performance_delta = deltas[i],
                        strategy_used = pins.Pin(Utf8.Z(strategies[i], "strategy_used")),
                    };
                }
                var ids = new long[n];
                GmException.Check(Native.gm_store_learning_events(Handle, inputs, (UIntPtr)n, ids));
                return ids;
            }
        }

        public List<LearningEvent> GetLearningEventsByTask(string taskType, long limit = 50, double? minDelta = null)
        {
            IntPtr list;
            GmException.Check(Native.gm_get_learning_events_by_task(Handle, Utf8.Z(taskType, "task_type"), limit,
                Opt(minDelta), out list));
            return Lists.Map<gm_learning_event, LearningEvent>(list, Native.gm_learning_event_list_free, e => new LearningEvent
            {
                Id = e.id, PerformanceDelta = e.performance_delta, Timestamp = e.timestamp,
                TaskType = Utf8.Span(e.task_type, e.task_type_len),
                StrategyUsed = Utf8.Span(e.strategy_used, e.strategy_used_len),
                ParametersJson = Utf8.Span(e.parameters, e.parameters_len),
            });
        }

        public List<StrategyStat> GetBestStrategies(string taskType, long limit = 10)
        {
            IntPtr list;
            GmException.Check(Native.gm_get_best_strategies(Handle, Utf8.Z(taskType, "task_type"), limit, out list));
            return Lists.Map<gm_strategy, StrategyStat>(list, Native.gm_strategy_list_free, s => new StrategyStat
            {
                Strategy = Utf8.Span(s.strategy, s.strategy_len), AvgDelta = s.avg_delta, UsageCount = s.usage_count,
            });
        }

        /// <summary>Per strategy: count, mean, spread and a 95% interval; `query` null for the defaults.</summary>
        public List<StrategySummary> StrategyStats(string taskType, gm_strategy_query? query = null)
        {
            IntPtr list;
            var q = query.HasValue ? new[] { query.Value } : null;
            GmException.Check(Native.gm_strategy_stats(Handle, Utf8.Z(taskType, "task_type"), q, out list));
            return Lists.Map<gm_strategy_summary, StrategySummary>(list, Native.gm_strategy_summary_list_free,
                s => new StrategySummary
                {
                    Strategy = Utf8.Span(s.strategy, s.strategy_len), Count = s.count, Mean = s.mean, StdDev = s.std_dev,
                    StdError = s.std_error, CiLow = s.ci_low, CiHigh = s.ci_high, FirstUsed = s.first_used,
                    LastUsed = s.last_used,
                });
        }

        /// <summary>The strategy to try next, among `candidates` or (null) the ones tried.</summary>
        public Suggestion SuggestStrategy(string taskType, string[] candidates = null, gm_suggest_options? options = null)
        {
            using (var pins = new Pins())
            {
                IntPtr names = IntPtr.Zero;
                if (candidates != null)
                {
                    var ptrs = new IntPtr[Math.Max(candidates.Length, 1)];
                    for (int i = 0; i < candidates.Length; i++) ptrs[i] = pins.Pin(Utf8.Z(candidates[i], "candidates[" + i + "]"));
                    names = pins.Pin(ptrs);
                }
                var o = options.HasValue ? new[] { options.Value } : null;
                IntPtr p;
                GmException.Check(Native.gm_suggest_strategy(Handle, Utf8.Z(taskType, "task_type"), names,
                    (UIntPtr)(candidates == null ? 0 : candidates.Length), o, out p));
                try
                {
                    var s = (gm_suggestion)Marshal.PtrToStructure(p, typeof(gm_suggestion));
                    return new Suggestion
                    {
                        Strategy = Utf8.Span(s.strategy, s.strategy_len), Score = s.score, Mean = s.mean, Count = s.count,
                        CandidateIndex = s.candidate_index,
                    };
                }
                finally { Native.gm_suggestion_free(p); }
            }
        }

        public long CountLearningEvents()
        {
            long n;
            GmException.Check(Native.gm_count_learning_events(Handle, out n));
            return n;
        }

        // ---- SQL, maintenance, backups ----

        /// <summary>One SQL statement with bound parameters (long, double, string,
        /// byte[] or null); returns the rows it changed.</summary>
        public long Execute(string sql, params object[] parameters)
        {
            using (var pins = new Pins())
            {
                var values = new gm_value[parameters == null ? 0 : parameters.Length];
                for (int i = 0; i < values.Length; i++) values[i] = Value(parameters[i], pins, i);
                long changes;
                GmException.Check(Native.gm_execute(Handle, Utf8.Z(sql, "sql"), values, (UIntPtr)values.Length, out changes));
                return changes;
            }
        }

        private static gm_value Value(object v, Pins pins, int i)
        {
            if (v == null) return new gm_value { kind = (uint)gm_value_kind.GM_VALUE_NULL };
            if (v is long || v is int) return new gm_value { kind = (uint)gm_value_kind.GM_VALUE_INTEGER, int_value = Convert.ToInt64(v) };
            if (v is double || v is float) return new gm_value { kind = (uint)gm_value_kind.GM_VALUE_REAL, real_value = Convert.ToDouble(v) };
            var s = v as string;
            if (s != null)
            {
                var bytes = Encoding.UTF8.GetBytes(s);
                return new gm_value { kind = (uint)gm_value_kind.GM_VALUE_TEXT, data = pins.Pin(bytes), len = (UIntPtr)bytes.Length };
            }
            var blob = v as byte[];
            if (blob != null) return new gm_value { kind = (uint)gm_value_kind.GM_VALUE_BLOB, data = pins.Pin(blob), len = (UIntPtr)blob.Length };
            throw new ArgumentException("params[" + i + "]: a " + v.GetType().Name + " cannot be bound", "parameters");
        }

        public gm_stats GetStats()
        {
            IntPtr p;
            GmException.Check(Native.gm_get_stats(Handle, out p));
            try { return (gm_stats)Marshal.PtrToStructure(p, typeof(gm_stats)); }
            finally { Native.gm_stats_free(p); }
        }

        private static string TakeString(IntPtr p)
        {
            try { return Utf8.Static(p); }
            finally { Native.gm_string_free(p); }
        }

        /// <summary>The number of problems SQLite's integrity check found (0: sound) and its report.</summary>
        public long IntegrityCheck(out string report)
        {
            long problems;
            IntPtr p;
            GmException.Check(Native.gm_integrity_check(Handle, out problems, out p));
            report = TakeString(p);
            return problems;
        }

        public string CreateBackup(string path = null)
        {
            IntPtr p;
            GmException.Check(Native.gm_create_backup(Handle, Utf8.Z(path, "backup_path"), out p));
            return TakeString(p);
        }

        /// <summary>The new backup's path, or null when none was due.</summary>
        public string AutoBackupIfNeeded()
        {
            IntPtr p;
            GmException.Check(Native.gm_auto_backup_if_needed(Handle, out p));
            return TakeString(p);
        }

        public void Restore(string backupPath) { GmException.Check(Native.gm_restore(Handle, Utf8.Z(backupPath, "backup_path"))); }

        public ulong Vacuum()
        {
            ulong reclaimed;
            GmException.Check(Native.gm_vacuum(Handle, out reclaimed));
            return reclaimed;
        }

        public void VacuumInto(string destPath) { GmException.Check(Native.gm_vacuum_into(Handle, Utf8.Z(destPath, "dest_path"))); }

        public long Checkpoint()
        {
            long frames;
            GmException.Check(Native.gm_checkpoint(Handle, out frames));
            return frames;
        }

        /// <summary>Keeps the k-NN matrix in the file at <paramref name="path"/> (null: in no
        /// file): the next search reads it instead of every concept if it is an intact snapshot
        /// of this store; closing writes it back. A cache: delete it at will.</summary>
        public void SetKnnSnapshot(string path)
        {
            GmException.Check(Native.gm_set_knn_snapshot(Handle, Utf8.Z(path, "path")));
        }

        /// <summary>Writes the k-NN matrix to the snapshot file now if its rows changed;
        /// true if it wrote.</summary>
        public bool SaveKnnSnapshot()
        {
            byte saved;
            GmException.Check(Native.gm_save_knn_snapshot(Handle, out saved));
            return saved != 0;
        }

        /// <summary>Where the k-NN matrix came from (built, or read from the snapshot).</summary>
        public gm_matrix_source KnnMatrixSource()
        {
            uint source;
            GmException.Check(Native.gm_knn_matrix_source(Handle, out source));
            return (gm_matrix_source)source;
        }

        // ---- replay sampling ----

        /// <summary>A replay sampler over this store's episodes: drawn in proportion to
        /// priority^alpha, or uniformly when <paramref name="alpha"/> is null; optionally one
        /// context and a score range. An episode without a priority of its own counts at the
        /// current maximum. Dispose it (pending priority updates are written then).</summary>
        public Sampler NewSampler(double? alpha = 0.6, string context = null, double? minScore = null,
                                  double? maxScore = null, ulong seed = 0)
        {
            using (var pins = new Pins())
            {
                var config = new gm_sampler_config
                {
                    weighting = (uint)(alpha.HasValue ? gm_weighting.GM_WEIGHTING_PRIORITIZED : gm_weighting.GM_WEIGHTING_UNIFORM),
                    alpha = alpha ?? 0.0,
                    context = pins.Pin(Utf8.Z(context, "config.context")),
                    has_min_score = (byte)(minScore.HasValue ? 1 : 0),
                    min_score = minScore ?? 0.0,
                    has_max_score = (byte)(maxScore.HasValue ? 1 : 0),
                    max_score = maxScore ?? 0.0,
                    seed = seed,
                };
                IntPtr sampler;
                GmException.Check(Native.gm_sampler_new(Handle, new[] { config }, out sampler));
                return new Sampler(sampler);
            }
        }

        /// <summary>Gives episodes priorities of their own (actors that compute one as they
        /// store); ids that are not episodes are skipped. Returns how many got one.</summary>
        public long SetEpisodePriorities(long[] ids, double[] priorities)
        {
            if (ids == null || priorities == null || ids.Length != priorities.Length)
                throw new ArgumentException("priorities: ids and priorities must be arrays of one length", "priorities");
            UIntPtr stored;
            GmException.Check(Native.gm_set_episode_priorities(Handle, ids, priorities, (UIntPtr)ids.Length, out stored));
            return (long)stored.ToUInt64();
        }

        // ---- retention ----

        /// <summary>gm_retention_policy.order: the oldest first, the lowest score first,
        /// the lowest replay priority first.</summary>
        public const uint EvictOldest = 0, EvictLowestScore = 1, EvictLowestPriority = 2;

        /// <summary>Sets the retention policy and applies it at once; every later episode
        /// write applies it in its own transaction. Limits cover the evictable episodes:
        /// all but those whose metadata <paramref name="protectKey"/> holds
        /// <paramref name="protectValueJson"/> (JSON text: "true", "\"demo\""). Null
        /// limits are not set; no limit at all removes the policy.</summary>
        public gm_evictions SetRetentionPolicy(long? maxEpisodes = null, long? maxExperienceBytes = null,
                                               double? maxAgeSeconds = null, long? keepTopK = null,
                                               bool topKPerContext = false, string protectKey = null,
                                               string protectValueJson = null, uint order = EvictOldest,
                                               long evictionBatch = 0)
        {
            using (var pins = new Pins())
            {
                gm_retention_policy p;
                Native.gm_retention_policy_init(out p);
                p.order = order;
                p.has_max_episodes = (byte)(maxEpisodes.HasValue ? 1 : 0);
                p.max_episodes = maxEpisodes ?? 0;
                p.has_max_experience_bytes = (byte)(maxExperienceBytes.HasValue ? 1 : 0);
                p.max_experience_bytes = maxExperienceBytes ?? 0;
                p.has_max_age_seconds = (byte)(maxAgeSeconds.HasValue ? 1 : 0);
                p.max_age_seconds = maxAgeSeconds ?? 0.0;
                p.has_keep_top_k = (byte)(keepTopK.HasValue ? 1 : 0);
                p.keep_top_k = keepTopK ?? 0;
                p.top_k_per_context = (byte)(topKPerContext ? 1 : 0);
                p.eviction_batch = evictionBatch;
                p.protect_key = pins.Pin(Utf8.Z(protectKey, "policy.protect_key"));
                p.protect_value = pins.Pin(Utf8.Z(protectValueJson, "policy.protect_value"));
                gm_evictions evicted;
                GmException.Check(Native.gm_set_retention_policy(Handle, new[] { p }, out evicted));
                return evicted;
            }
        }

        /// <summary>Removes the retention policy: nothing is evicted any more.</summary>
        public void ClearRetentionPolicy()
        {
            gm_evictions ignored;
            GmException.Check(Native.gm_set_retention_policy(Handle, null, out ignored));
        }

        /// <summary>What this thread's last episode write on this store evicted, by rule.</summary>
        public gm_evictions LastEvictions()
        {
            gm_evictions evicted;
            GmException.Check(Native.gm_last_evictions(Handle, out evicted));
            return evicted;
        }

        /// <summary>The evictable episodes as the database counts them, and every eviction
        /// so far; false when no policy is in force.</summary>
        public bool RetentionStatus(out long episodes, out long experienceBytes, out long evictedTotal)
        {
            IntPtr p;
            GmException.Check(Native.gm_get_retention(Handle, out p));
            try
            {
                var s = (gm_retention_status)Marshal.PtrToStructure(p, typeof(gm_retention_status));
                episodes = s.episodes;
                experienceBytes = s.experience_bytes;
                evictedTotal = s.evicted_total;
                return s.has_policy == 1;
            }
            finally { Native.gm_retention_status_free(p); }
        }

        /// <summary>Evicts what the policy no longer allows (after writes by other programs,
        /// or as the maximum age passes) and returns the ids, in eviction order; with
        /// <paramref name="dryRun"/> only lists them.</summary>
        public long[] Prune(bool dryRun, out gm_evictions evicted)
        {
            IntPtr p;
            GmException.Check(Native.gm_prune(Handle, (byte)(dryRun ? 1 : 0), out p));
            try
            {
                var r = (gm_pruned)Marshal.PtrToStructure(p, typeof(gm_pruned));
                evicted = r.evictions;
                var ids = new long[(long)r.count.ToUInt64()];
                if (ids.Length > 0) Marshal.Copy(r.ids, ids, 0, ids.Length);
                return ids;
            }
            finally { Native.gm_pruned_free(p); }
        }

        // ---- transactions ----

        /// <summary>A transaction on this thread: calls this thread makes join it.
        /// Commit or Rollback on the same thread.</summary>
        public void Begin() { GmException.Check(Native.gm_begin(Handle)); }
        public void Commit() { GmException.Check(Native.gm_commit(Handle)); }
        public void Rollback() { GmException.Check(Native.gm_rollback(Handle)); }

        /// <summary>A transaction for async code, which may resume on another
        /// thread after each await: run the store calls through Run.</summary>
        public Transaction BeginTransaction() { return new Transaction(this); }
    }

    /// <summary>A drawn batch: the samples in draw order and how many episodes the sampler
    /// held (Reverb's table_size).</summary>
    public sealed class SampleBatch
    {
        public gm_sample[] Samples;
        public ulong TableSize;
        /// <summary>The drawn episodes in draw order, from SampleEpisodes; null from Sample.</summary>
        public List<Episode> Episodes;
    }

    /// <summary>A replay sampler (Store.NewSampler). Priority updates take effect at once and
    /// reach the database at most every 5 seconds, at Flush and at Dispose. Thread-safe.</summary>
    public sealed class Sampler : IDisposable
    {
        private IntPtr handle;
        internal Sampler(IntPtr handle) { this.handle = handle; }

        /// <summary>Draws <paramref name="count"/> episodes with their probabilities and
        /// importance weights (P(i)/P_min)^-beta.</summary>
        public SampleBatch Sample(int count, double beta = 0.4, bool withReplacement = true)
        {
            var samples = new gm_sample[count];
            ulong size;
            GmException.Check(Native.gm_sampler_sample(handle, (UIntPtr)count, beta, (byte)(withReplacement ? 1 : 0),
                count > 0 ? samples : null, out size));
            return new SampleBatch { Samples = samples, TableSize = size };
        }

        /// <summary>As Sample, with the drawn episodes themselves (in draw order, one drawn
        /// twice comes twice), read in the same call: one call per learner step.</summary>
        public SampleBatch SampleEpisodes(int count, double beta = 0.4, bool withReplacement = true)
        {
            var samples = new gm_sample[count];
            ulong size;
            IntPtr list;
            GmException.Check(Native.gm_sampler_sample_episodes(handle, (UIntPtr)count, beta,
                (byte)(withReplacement ? 1 : 0), count > 0 ? samples : null, out size, out list));
            var episodes = Lists.Map<gm_episode, Episode>(list, Native.gm_episode_list_free, Episode.From);
            return new SampleBatch { Samples = samples, TableSize = size, Episodes = episodes };
        }

        /// <summary>Applies new priorities where (id, generation) still names what was
        /// drawn; returns the indexes of the updates that did not (stale).</summary>
        public List<int> UpdatePriorities(gm_priority_update[] updates)
        {
            var stale = new byte[updates.Length];
            UIntPtr staleCount;
            GmException.Check(Native.gm_sampler_update_priorities(handle, updates, (UIntPtr)updates.Length,
                updates.Length > 0 ? stale : null, out staleCount));
            var result = new List<int>();
            for (int i = 0; i < stale.Length; i++) if (stale[i] != 0) result.Add(i);
            return result;
        }

        /// <summary>Writes pending priority updates now; returns how many.</summary>
        public long Flush()
        {
            UIntPtr written;
            GmException.Check(Native.gm_sampler_flush(handle, out written));
            return (long)written.ToUInt64();
        }

        /// <summary>The generator's state, to save with a checkpoint.</summary>
        public byte[] RngState()
        {
            var state = new byte[32];
            GmException.Check(Native.gm_sampler_rng_state(handle, state, (UIntPtr)state.Length));
            return state;
        }

        /// <summary>Continues from a state RngState returned.</summary>
        public void SetRngState(byte[] state)
        {
            GmException.Check(Native.gm_sampler_set_rng_state(handle, state, (UIntPtr)(state == null ? 0 : state.Length)));
        }

        public void Dispose()
        {
            Native.gm_sampler_free(handle); // writes pending updates first; a freed handle is a no-op
            handle = IntPtr.Zero;
        }
    }

    /// <summary>
    /// A transaction that any thread may continue: between calls it is
    /// detached (gm_transaction_detach), and Run attaches it to the calling
    /// thread for the duration of the call. Use it as
    /// <code>
    /// using (var tx = store.BeginTransaction()) {
    ///     tx.Run(s => s.StoreEpisode(...));
    ///     await SomethingAsync();            // may resume on another thread
    ///     tx.Run(s => s.StoreEpisode(...));
    ///     tx.Commit();
    /// }                                      // rolled back unless committed
    /// </code>
    /// One flow at a time: calls on one Transaction are serialised.
    /// </summary>
    public sealed class Transaction : IDisposable
    {
        private readonly Store store;
        private readonly object gate = new object();
        private ulong token;
        private bool open;

        internal Transaction(Store store)
        {
            this.store = store;
            GmException.Check(Native.gm_begin(store.Handle));
            GmException.Check(Native.gm_transaction_detach(store.Handle, out token));
            open = true;
        }

        public bool IsOpen { get { return open; } }

        /// <summary>Runs `work` on this thread inside the transaction.</summary>
        public T Run<T>(Func<Store, T> work)
        {
            lock (gate)
            {
                Attach();
                try { return work(store); }
                finally { Detach(); }
            }
        }

        public void Run(Action<Store> work) { Run<int>(s => { work(s); return 0; }); }

        public void Commit() { Finish(true); }
        public void Rollback() { Finish(false); }

        /// <summary>Rolls back unless committed.</summary>
        public void Dispose()
        {
            if (open) Finish(false);
        }

        private void Attach()
        {
            if (!open) throw new InvalidOperationException("the transaction has ended");
            GmException.Check(Native.gm_transaction_attach(store.Handle, token));
        }

        private void Detach() { GmException.Check(Native.gm_transaction_detach(store.Handle, out token)); }

        private void Finish(bool commit)
        {
            lock (gate)
            {
                Attach();
                open = false;
                GmException.Check(commit ? Native.gm_commit(store.Handle) : Native.gm_rollback(store.Handle));
            }
        }
    }

    /// <summary>The experience format (safetensors), without a store.</summary>
    public static class Experience
    {
        public static byte[] Encode(Tensor[] tensors, string valuesJson)
        {
            using (var pins = new Pins())
            {
                var raw = Store.TensorInputs(tensors, pins);
                IntPtr p;
                GmException.Check(Native.gm_experience_encode(raw, (UIntPtr)raw.Length, Utf8.Z(valuesJson, "values_json"), out p));
                try
                {
                    var b = (gm_buffer)Marshal.PtrToStructure(p, typeof(gm_buffer));
                    return Utf8.Bytes(b.data, b.len);
                }
                finally { Native.gm_buffer_free(p); }
            }
        }

        public static DecodedExperience Decode(byte[] data)
        {
            IntPtr p;
            GmException.Check(Native.gm_experience_decode(data, (UIntPtr)data.Length, out p));
            try
            {
                var e = (gm_experience)Marshal.PtrToStructure(p, typeof(gm_experience));
                var tensors = new Tensor[checked((int)e.count.ToUInt64())];
                int size = Marshal.SizeOf(typeof(gm_tensor_info));
                for (int i = 0; i < tensors.Length; i++)
                {
                    var info = (gm_tensor_info)Marshal.PtrToStructure(new IntPtr(e.tensors.ToInt64() + (long)i * size),
                        typeof(gm_tensor_info));
                    var shape = new long[info.ndim];
                    if (shape.Length > 0) Marshal.Copy(info.shape, shape, 0, shape.Length);
                    var bytes = new byte[checked((int)info.len)];
                    Array.Copy(data, checked((long)info.offset), bytes, 0, bytes.Length);
                    tensors[i] = new Tensor
                    {
                        Name = Utf8.Span(info.name, info.name_len), DType = (gm_dtype)info.dtype,
                        Shape = Array.ConvertAll(shape, x => (ulong)x), Data = bytes,
                    };
                }
                return new DecodedExperience { Tensors = tensors, ValuesJson = Utf8.Span(e.values_json, e.values_json_len) };
            }
            finally { Native.gm_experience_free(p); }
        }
    }

    /// <summary>The error of this thread's last failed call, copied.</summary>
    public static class LastError
    {
        public static string Copy()
        {
            UIntPtr needed;
            Native.gm_last_error_copy(null, UIntPtr.Zero, out needed);
            var buf = new byte[checked((int)needed.ToUInt64())];
            GmException.Check(Native.gm_last_error_copy(buf, (UIntPtr)buf.Length, out needed));
            return Encoding.UTF8.GetString(buf, 0, Math.Max(0, Array.IndexOf(buf, (byte)0)));
        }
    }

    // <generated> by scripts/gen_bindings.py from include/gmstore.h; do not edit
    public enum gm_status_code : uint
    {
        GM_OK = 0,
        GM_ERR_NOT_FOUND = 1,
        GM_ERR_INVALID_ARGUMENT = 2,
        GM_ERR_CONSTRAINT = 3,
        GM_ERR_BUSY = 4,
        GM_ERR_IO = 5,
        GM_ERR_CORRUPT = 6,
        GM_ERR_NOT_A_DATABASE = 7,
        GM_ERR_SCHEMA_TOO_NEW = 8,
        GM_ERR_READ_ONLY = 9,
        GM_ERR_FULL = 10,
        GM_ERR_INTERNAL = 11,
        GM_ERR_MISUSE = 12,
        GM_ERR_BUFFER_TOO_SMALL = 13,
    }

    public enum gm_dtype : uint
    {
        GM_DTYPE_BOOL = 1,
        GM_DTYPE_U8 = 2,
        GM_DTYPE_I8 = 3,
        GM_DTYPE_U16 = 4,
        GM_DTYPE_I16 = 5,
        GM_DTYPE_F16 = 6,
        GM_DTYPE_BF16 = 7,
        GM_DTYPE_U32 = 8,
        GM_DTYPE_I32 = 9,
        GM_DTYPE_F32 = 10,
        GM_DTYPE_U64 = 11,
        GM_DTYPE_I64 = 12,
        GM_DTYPE_F64 = 13,
    }

    public enum gm_value_kind : uint
    {
        GM_VALUE_NULL = 0,
        GM_VALUE_INTEGER = 1,
        GM_VALUE_REAL = 2,
        GM_VALUE_TEXT = 3,
        GM_VALUE_BLOB = 4,
    }

    public enum gm_sync : byte
    {
        GM_SYNC_DEFAULT = 0,
        GM_SYNC_NORMAL = 1,
        GM_SYNC_FULL = 2,
    }

    public enum gm_name_match : uint
    {
        GM_MATCH_LIKE = 0,
        GM_MATCH_LITERAL = 1,
    }

    public enum gm_metric : uint
    {
        GM_METRIC_COSINE = 0,
        GM_METRIC_DOT = 1,
        GM_METRIC_L2 = 2,
    }

    public enum gm_matrix_source : uint
    {
        GM_MATRIX_NOT_LOADED = 0,
        GM_MATRIX_BUILT = 1,
        GM_MATRIX_SNAPSHOT = 2,
    }

    public enum gm_weighting : uint
    {
        GM_WEIGHTING_PRIORITIZED = 0,
        GM_WEIGHTING_UNIFORM = 1,
    }

    public enum gm_strategy_order : byte
    {
        GM_STRATEGY_ORDER_MEAN = 0,
        GM_STRATEGY_ORDER_LOWER_BOUND = 1,
    }

    public enum gm_suggest_method : byte
    {
        GM_SUGGEST_UCB1 = 0,
        GM_SUGGEST_THOMPSON = 1,
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_options
    {
        public uint struct_size;
        public uint max_backups;
        public long backup_interval_secs;
        public double connection_timeout_secs;
        public byte enable_wal;
        public byte read_only;
        public byte synchronous;
        public byte knn_cache;
        public uint page_size;
        public uint embedding_dim;
        public uint file_mode;
        public uint reserved;
        public ulong max_db_size;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_episode_input
    {
        public IntPtr experience_data;
        public UIntPtr experience_len;
        public double performance_score;
        public double timestamp;
        public IntPtr context_hash;
        public IntPtr metadata;
        public byte has_timestamp;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
        public byte reserved6;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_tensor
    {
        public IntPtr name;
        public uint dtype;
        public uint ndim;
        public IntPtr shape;
        public IntPtr data;
        public UIntPtr data_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_tensor_episode_input
    {
        public IntPtr tensors;
        public UIntPtr tensor_count;
        public IntPtr values_json;
        public double performance_score;
        public double timestamp;
        public IntPtr context_hash;
        public IntPtr metadata;
        public byte has_timestamp;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
        public byte reserved6;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_episode
    {
        public long id;
        public double timestamp;
        public double performance_score;
        public double created_at;
        public IntPtr experience_data;
        public UIntPtr experience_len;
        public IntPtr context_hash;
        public UIntPtr context_hash_len;
        public IntPtr metadata;
        public UIntPtr metadata_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_episode_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_concept
    {
        public long id;
        public double creation_time;
        public double last_accessed;
        public long access_count;
        public IntPtr name;
        public UIntPtr name_len;
        public IntPtr embedding;
        public UIntPtr embedding_len;
        public IntPtr metadata;
        public UIntPtr metadata_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_concept_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
        public IntPtr floats;
        public UIntPtr floats_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_relationship
    {
        public long target_id;
        public double strength;
        public IntPtr relationship_type;
        public UIntPtr relationship_type_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_relationship_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_reached
    {
        public long id;
        public uint hops;
        public uint reserved;
        public IntPtr name;
        public UIntPtr name_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_reached_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_path
    {
        public IntPtr ids;
        public UIntPtr len;
        public double strength;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_learning_event_input
    {
        public IntPtr task_type;
        public double performance_delta;
        public IntPtr strategy_used;
        public IntPtr parameters;
        public double timestamp;
        public byte has_timestamp;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
        public byte reserved6;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_learning_event
    {
        public long id;
        public double performance_delta;
        public double timestamp;
        public IntPtr task_type;
        public UIntPtr task_type_len;
        public IntPtr strategy_used;
        public UIntPtr strategy_used_len;
        public IntPtr parameters;
        public UIntPtr parameters_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_learning_event_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_strategy
    {
        public double avg_delta;
        public long usage_count;
        public IntPtr strategy;
        public UIntPtr strategy_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_strategy_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_strategy_query
    {
        public double since;
        public long min_count;
        public long limit;
        public byte has_since;
        public byte order;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_strategy_summary
    {
        public long count;
        public double mean;
        public double std_dev;
        public double std_error;
        public double ci_low;
        public double ci_high;
        public double first_used;
        public double last_used;
        public IntPtr strategy;
        public UIntPtr strategy_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_strategy_summary_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_suggest_options
    {
        public ulong seed;
        public double prior_mean;
        public double prior_std;
        public double exploration;
        public double since;
        public byte method;
        public byte has_prior_mean;
        public byte has_prior_std;
        public byte has_exploration;
        public byte has_since;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_suggestion
    {
        public double score;
        public double mean;
        public long count;
        public long candidate_index;
        public IntPtr strategy;
        public UIntPtr strategy_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_value
    {
        public uint kind;
        public uint reserved;
        public long int_value;
        public double real_value;
        public IntPtr data;
        public UIntPtr len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_stats
    {
        public long episodes_count;
        public long concepts_count;
        public long learning_events_count;
        public long relationships_count;
        public ulong db_size_bytes;
        public double db_size_mb;
        public long schema_version;
        public long page_size;
        public long page_count;
        public long freelist_count;
        public ulong embedding_dim;
        public double last_backup_time;
        public byte has_last_backup_time;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
        public byte reserved6;
        public long episodes_evicted;
        public byte has_retention_policy;
        public byte reserved_tail0;
        public byte reserved_tail1;
        public byte reserved_tail2;
        public byte reserved_tail3;
        public byte reserved_tail4;
        public byte reserved_tail5;
        public byte reserved_tail6;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_buffer
    {
        public IntPtr data;
        public UIntPtr len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_tensor_info
    {
        public IntPtr name;
        public UIntPtr name_len;
        public uint dtype;
        public uint ndim;
        public IntPtr shape;
        public ulong offset;
        public ulong len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_experience
    {
        public IntPtr tensors;
        public UIntPtr count;
        public IntPtr values_json;
        public UIntPtr values_json_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_retention_policy
    {
        public uint struct_size;
        public uint order;
        public byte has_max_episodes;
        public byte has_max_experience_bytes;
        public byte has_max_age_seconds;
        public byte has_keep_top_k;
        public byte top_k_per_context;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public long max_episodes;
        public long max_experience_bytes;
        public double max_age_seconds;
        public long keep_top_k;
        public long eviction_batch;
        public IntPtr protect_key;
        public IntPtr protect_value;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_evictions
    {
        public ulong by_age;
        public ulong by_top_k;
        public ulong by_count;
        public ulong by_bytes;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_retention_status
    {
        public byte has_policy;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
        public byte reserved6;
        public gm_retention_policy policy;
        public long episodes;
        public long experience_bytes;
        public long evicted_total;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_pruned
    {
        public gm_evictions evictions;
        public IntPtr ids;
        public UIntPtr count;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_sampler_config
    {
        public uint weighting;
        public byte has_min_score;
        public byte has_max_score;
        public byte reserved0;
        public byte reserved1;
        public double alpha;
        public IntPtr context;
        public double min_score;
        public double max_score;
        public ulong seed;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_sample
    {
        public long id;
        public long generation;
        public double probability;
        public double weight;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_priority_update
    {
        public long id;
        public long generation;
        public double priority;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_search_filter
    {
        public IntPtr name_pattern;
        public long min_access_count;
        public byte has_min_access_count;
        public byte name_match;
        public byte reserved0;
        public byte reserved1;
        public byte reserved2;
        public byte reserved3;
        public byte reserved4;
        public byte reserved5;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_neighbor
    {
        public long id;
        public double score;
        public ulong query;
        public IntPtr name;
        public UIntPtr name_len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct gm_neighbor_list
    {
        public IntPtr items;
        public UIntPtr len;
        public IntPtr arena;
        public UIntPtr arena_len;
    }

    /// <summary>The C ABI, one declaration per function; see include/gmstore.h and docs/ABI.md.</summary>
    public static partial class Native
    {
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_options_init(out gm_options opts);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_open(byte[] path, gm_options[] opts, out StoreHandle out_store);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_close(IntPtr store);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern IntPtr gm_version_string();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern IntPtr gm_sqlite_version();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern IntPtr gm_status_name(uint status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern IntPtr gm_last_error_message();
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_last_error_copy(byte[] buf, UIntPtr cap, out UIntPtr out_needed);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_episode(StoreHandle store, gm_episode_input[] episode, out long out_id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_episode_tensors(StoreHandle store, gm_tensor[] tensors, UIntPtr tensor_count, byte[] values_json, double performance_score, byte[] context_hash, byte[] metadata, double[] timestamp, out long out_id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_episodes_tensors(StoreHandle store, gm_tensor_episode_input[] episodes, UIntPtr count, long[] out_ids);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_episodes(StoreHandle store, gm_episode_input[] episodes, UIntPtr count, long[] out_ids);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_episode(StoreHandle store, long id, out IntPtr out_episode);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_episode_into(StoreHandle store, long id, byte[] buf, UIntPtr capacity, out UIntPtr out_size);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_episodes_by_context(StoreHandle store, byte[] context_hash, long limit, double[] min_score, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_recent_episodes(StoreHandle store, double time_window, long limit, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_count_episodes(StoreHandle store, out long out_count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_episode_free(IntPtr episode);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_episode_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_concept(StoreHandle store, byte[] name, float[] embedding, UIntPtr dim, byte[] metadata, double[] creation_time, out long out_id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_concept(StoreHandle store, long id, out IntPtr out_concept);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_concept_by_name(StoreHandle store, byte[] name, out IntPtr out_concept);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_search_concepts(StoreHandle store, byte[] query, long limit, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_search_concepts_matching(StoreHandle store, byte[] query, uint name_match, long limit, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_count_concepts(StoreHandle store, out long out_count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_embedding_dim(StoreHandle store, out UIntPtr out_dim);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_concept_free(IntPtr item);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_concept_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_add_relationship(StoreHandle store, long source_id, long target_id, byte[] relationship_type, double strength);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_relationships(StoreHandle store, long concept_id, byte[] relationship_type, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_relationship_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_concept_neighborhood(StoreHandle store, long concept_id, uint max_hops, byte[] relationship_type, double min_strength, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_reached_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_strongest_path(StoreHandle store, long from_id, long to_id, byte[] relationship_type, double min_strength, out IntPtr out_path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_path_free(IntPtr path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_learning_event(StoreHandle store, byte[] task_type, double performance_delta, byte[] strategy_used, byte[] parameters, double[] timestamp, out long out_id);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_store_learning_events(StoreHandle store, gm_learning_event_input[] events, UIntPtr count, long[] out_ids);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_learning_events_by_task(StoreHandle store, byte[] task_type, long limit, double[] min_performance_delta, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_best_strategies(StoreHandle store, byte[] task_type, long limit, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_strategy_stats(StoreHandle store, byte[] task_type, gm_strategy_query[] query, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_suggest_strategy(StoreHandle store, byte[] task_type, IntPtr candidates, UIntPtr candidate_count, gm_suggest_options[] options, out IntPtr out_suggestion);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_count_learning_events(StoreHandle store, out long out_count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_learning_event_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_strategy_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_strategy_summary_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_suggestion_free(IntPtr suggestion);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_execute(StoreHandle store, byte[] sql, gm_value[] @params, UIntPtr count, out long out_changes);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_stats(StoreHandle store, out IntPtr out_stats);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_stats_free(IntPtr stats);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_integrity_check(StoreHandle store, out long out_problems, out IntPtr out_report);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_string_free(IntPtr s);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_create_backup(StoreHandle store, byte[] backup_path, out IntPtr out_path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_auto_backup_if_needed(StoreHandle store, out IntPtr out_path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_restore(StoreHandle store, byte[] backup_path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_vacuum(StoreHandle store, out ulong out_reclaimed);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_vacuum_into(StoreHandle store, byte[] dest_path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_checkpoint(StoreHandle store, out long out_frames);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_experience_encode(gm_tensor[] tensors, UIntPtr count, byte[] values_json, out IntPtr out_buffer);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_buffer_free(IntPtr buffer);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_experience_decode(byte[] data, UIntPtr len, out IntPtr out_experience);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_experience_free(IntPtr experience);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_retention_policy_init(out gm_retention_policy policy);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_set_retention_policy(StoreHandle store, gm_retention_policy[] policy, out gm_evictions out_evicted);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_get_retention(StoreHandle store, out IntPtr out_status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_retention_status_free(IntPtr status);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_last_evictions(StoreHandle store, out gm_evictions out_evicted);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_prune(StoreHandle store, byte dry_run, out IntPtr out_pruned);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_pruned_free(IntPtr pruned);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_new(StoreHandle store, gm_sampler_config[] config, out IntPtr out_sampler);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_sample(IntPtr sampler, UIntPtr count, double beta, byte with_replacement, gm_sample[] out_samples, out ulong out_table_size);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_sample_episodes(IntPtr sampler, UIntPtr count, double beta, byte with_replacement, gm_sample[] out_samples, out ulong out_table_size, out IntPtr out_episodes);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_update_priorities(IntPtr sampler, gm_priority_update[] updates, UIntPtr count, byte[] out_stale, out UIntPtr out_stale_count);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_flush(IntPtr sampler, out UIntPtr out_written);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_rng_state(IntPtr sampler, byte[] out_state, UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_sampler_set_rng_state(IntPtr sampler, byte[] state, UIntPtr len);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_sampler_free(IntPtr sampler);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_set_episode_priorities(StoreHandle store, long[] ids, double[] priorities, UIntPtr count, out UIntPtr out_stored);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_nearest_concepts(StoreHandle store, float[] query, UIntPtr dim, uint metric_code, UIntPtr k, gm_search_filter[] filter, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_nearest_concepts_batch(StoreHandle store, float[] queries, UIntPtr count, UIntPtr dim, uint metric_code, UIntPtr k, gm_search_filter[] filter, out IntPtr out_list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern void gm_neighbor_list_free(IntPtr list);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_build_similarity_graph(StoreHandle store, double threshold, UIntPtr top_k, byte[] relationship_type, out long out_edges);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_set_knn_snapshot(StoreHandle store, byte[] path);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_save_knn_snapshot(StoreHandle store, out byte out_saved);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_knn_matrix_source(StoreHandle store, out uint out_source);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_begin(StoreHandle store);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_commit(StoreHandle store);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_rollback(StoreHandle store);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_transaction_detach(StoreHandle store, out ulong out_token);
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        public static extern uint gm_transaction_attach(StoreHandle store, ulong token);
    }
    // </generated>
}
