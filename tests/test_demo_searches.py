"""The demo searches (slow: SmolLM2, about 5 minutes on 2 idle cores): `trex demo` on its defaults climbs over the
rounds instead of saturating in the first, and the tree branches (UCT goes back to an older node)."""
import os, subprocess, sys, time
from pathlib import Path
import pytest

@pytest.mark.slow
def test_demo_climbs_and_branches(tmp_path):
    exe = Path(sys.executable).parent/'trex'
    env = dict(os.environ, HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    t0 = time.time()
    r = subprocess.run([str(exe), 'demo', str(tmp_path/'demo')], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env, timeout=1800, cwd=tmp_path)
    print(f"trex demo: {time.time()-t0:.0f} s")
    assert r.returncode == 0, r.stdout[-3000:]
    from trex.tree import SearchTree
    t = SearchTree.open(tmp_path/'demo')
    nodes = sorted(t, key=lambda n: int(n.id[1:]))
    scores = [n.score for n in nodes]
    assert len(nodes) == 5 and all(n.status.value == 'done' for n in nodes), [(n.id, n.status) for n in nodes]
    best_so_far = [max(scores[:i+1]) for i in range(len(scores))]
    assert best_so_far[1] > best_so_far[0] and best_so_far[2] > best_so_far[1], scores      # climbs in rounds 1 and 2
    assert best_so_far[1] < 1.0, scores                                                       # not saturated in round 1
    kids = {n.id: [c for c in nodes if c.parent == n.id] for n in nodes}
    assert any(len(k) >= 2 for k in kids.values()), kids                                      # a branch
    assert t.best().score > nodes[0].score
