// A Unity-style agent loop as a console program: Start() opens the memory,
// Update() runs once per frame (observe, act, remember), and every 60
// frames the agent asks its memory which tactic to try next. In Unity, put
// bindings/csharp/Gmstore.cs and the native library under Assets/Plugins
// and move these methods into a MonoBehaviour.
//
//   mcs AgentLoop.cs ../../bindings/csharp/Gmstore.cs && mono AgentLoop.exe agent.db

using System;
using System.Linq;
using Gmstore;

class Agent
{
    static readonly string[] Tactics = { "flank", "rush", "hold" };
    static readonly double[] TrueReward = { 0.8, 0.3, 0.5 };   // unknown to the agent
    readonly Random random = new Random(7);
    Store memory;
    string tactic = "rush";
    int frame;

    void Start(string path)
    {
        memory = Store.Open(path);
    }

    void Update()
    {
        frame++;
        var observation = new float[16];
        for (int i = 0; i < observation.Length; i++) observation[i] = (float)random.NextDouble();
        double reward = TrueReward[Array.IndexOf(Tactics, tactic)] + (random.NextDouble() - 0.5) * 0.4;
        // One episode per frame: the observation as a tensor, the rest as JSON.
        memory.StoreEpisodeTensors(new[] { Tensor.Of("observation", observation) },
            "{\"observation\": {\"$tensor\": \"observation\"}, \"tactic\": \"" + tactic + "\", \"frame\": " + frame + "}",
            reward, "arena_" + (frame / 100));
        memory.StoreLearningEvent("combat", reward, tactic);
        if (frame % 60 == 0)
        {
            var options = new gm_suggest_options { method = (byte)gm_suggest_method.GM_SUGGEST_THOMPSON, seed = (ulong)frame };
            tactic = memory.SuggestStrategy("combat", Tactics, options).Strategy;
        }
    }

    static int Main(string[] args)
    {
        var agent = new Agent();
        agent.Start(args.Length > 0 ? args[0] : "agent.db");
        for (int f = 0; f < 600; f++) agent.Update();   // ten seconds at 60 fps
        var stats = agent.memory.StrategyStats("combat");
        foreach (var s in stats)
            Console.WriteLine("{0,-6} {1,4} uses, mean {2:F3}, 95% CI [{3:F3}, {4:F3}]", s.Strategy, s.Count, s.Mean, s.CiLow, s.CiHigh);
        long episodes = agent.memory.CountEpisodes();
        agent.memory.Dispose();
        bool ok = episodes >= 600 && stats.First().Strategy == "flank";
        Console.WriteLine(ok ? "C# agent loop: ok (" + episodes + " episodes)" : "C# agent loop: UNEXPECTED RESULT");
        return ok ? 0 : 1;
    }
}
