"""SIGKILL of the kernel (a python process running `Session.step()`) at random points, and while a node trains:
after each kill the database passes SQLite's integrity check, `Session.load` opens the run, nothing committed is
lost, and the run, finished by a later kernel, has the same tree as an uninterrupted one (tests/relkit.py)."""
import random, time
import pytest
import relkit as rk
from trex.session import Session
from trex.store import Store

def _load_ok(run):
    "Session.load opens the run (and its settings) in this process; closed again at once."
    s = Session.load(run)
    try: return len(s.tree), s.tree.counts()
    finally: s.tree.store.close()

def _wait_for(cond, timeout, poll=0.1):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout: return False
        time.sleep(poll)
    return True

@pytest.fixture(scope='module')
def killed_while_training():
    "A kernel SIGKILLed while n1's first variant trains, then a new kernel that finishes the run."
    ref = rk.reference()
    run = rk.copy_run(ref['root'], rk._TMP/'kill_training'/'run')
    before = rk.committed(run)
    p = rk.kernel(run, rounds=1)
    trains = lambda: any(f.stat().st_size for f in run.glob('nodes/n1/*/train_log.jsonl'))
    assert _wait_for(trains, 600), "n1 never started training"
    p.kill(); p.wait()
    t_kill = time.time()
    obs = dict(before=before, at_kill=rk.rows(run), integrity=rk.integrity(run))
    gone = _wait_for(lambda: not rk.live_jobs(run), 30, poll=0.2)   # the children watch their runner's pid (TREX_PARENT_PID)
    obs['orphan_s'] = None if not gone else time.time() - t_kill
    obs['loaded'] = _load_ok(run)
    obs['out'] = rk.run_kernel(run, rounds=1)            # a new kernel: Session.load, then steps until one round is done
    obs['shape'], obs['run'] = rk.shape(run), run
    _wait_for(lambda: not rk.live_jobs(run), 120)
    rk.kill_jobs(run)
    return obs

def test_kill_while_training_then_load_finishes_the_node(killed_while_training):
    o = killed_while_training
    assert o['integrity'] == 'ok'
    assert [(i, s) for i,_,s,_ in o['at_kill']] == [('n0', 'done'), ('n1', 'running')]
    assert o['loaded'][0] == 2
    assert b"n1 done" in o['out'][0], o['out'][0].decode()
    assert o['shape'] == rk.reference()['shape'][:2]     # the root and n1, as in the uninterrupted run
    rk.assert_kept(o['before'], o['run'])
    assert rk.integrity(o['run']) == 'ok'

def test_no_training_child_outlives_its_kernel(killed_while_training):
    "The child watches its runner (TREX_PARENT_PID): soon after the kernel's SIGKILL no trainer of the run is left (without the watch it trained on to the end)."
    s = killed_while_training['orphan_s']
    assert s is not None and s < 15, f"a trainer was still alive {s or 30:.1f} s after its kernel died"

def _trained_since(run, t0)->bool:
    "A variant of `run` wrote training steps after `t0` (a node trains now)."
    return any(f.stat().st_size and f.stat().st_mtime > t0 for f in run.glob('nodes/*/*/train_log.jsonl'))

def _stepped(p)->bool:
    "The kernel `p` printed a finished step (its node is committed)."
    return b'KERNEL step' in rk.output(p)[0]

def _kill_when(p, run, how, rng):
    "SIGKILL the kernel `p` at a point of the run that `how` names; returns the seconds it lived."
    t0 = time.time()
    alive = lambda: p.poll() is None
    if how == 'time': _wait_for(lambda: not alive(), rng.uniform(0.2, 4.0), poll=0.05)        # start-up, loading, planning
    elif how == 'training': _wait_for(lambda: not alive() or _trained_since(run, t0), 300, poll=0.05)
    else: _wait_for(lambda: not alive() or _stepped(p), 300, poll=0.05)                      # 'step': just after a commit
    if how != 'time' and alive(): time.sleep(rng.uniform(0, 1.0))
    p.kill(); p.wait()
    return time.time() - t0

def test_twenty_random_kills(tmp_path):
    """20 kernels, each SIGKILLed at a random point: a random moment of its start, while a variant trains, or just after a
    step committed (the kills are placed by what the run does, not by wall time, so a slow or fast machine moves the run on
    alike); then one runs to the end: same tree as the uninterrupted run."""
    ref = rk.reference()
    run = tmp_path/'run'
    rk.run_kernel(run, steps=0)                          # created by an uninterrupted kernel (see test_half_created_run)
    rng, landed = random.Random(1234), []
    hows = [rng.choice(['time', 'training']) for _ in range(20)]
    for part in (range(0, 7), range(7, 14), range(14, 20)): hows[rng.choice(part)] = 'step'   # the run moves on (3 steps make it whole)
    for i, how in enumerate(hows):
        before = rk.committed(run)
        p = rk.kernel(run)
        lived = _kill_when(p, run, how, rng)
        out, err = rk.output(p)
        assert p.returncode in (-9, 0), err.decode(errors='replace')[-3000:]    # killed, or it had finished; never crashed
        assert rk.integrity(run) == 'ok', f"kill {i} ({how}) after {lived:.1f}s"
        rk.assert_kept(before, run)
        n, counts = _load_ok(run)
        landed.append((how, round(lived, 1), counts))
    print('kills landed (trigger, seconds alive, node counts after):', landed)
    out, err = rk.run_kernel(run)
    assert rk.shape(run) == ref['shape'], landed
    assert rk.integrity(run) == 'ok'
    assert len({str(c) for *_,c in landed}) >= 2, f"the kills all landed in one state of the run: {landed}"
    _wait_for(lambda: not rk.live_jobs(run), 120)
    rk.kill_jobs(run)

def test_half_created_run(tmp_path):
    "The state a kill between the database's creation and the settings leaves: one of create/load must go on."
    run = tmp_path/'run'
    Store.open(run).close()                                # what SearchTree.open in Session.create had committed
    try: s = Session.load(run)
    except Exception:
        s = Session.create(run, **{k: v for k,v in rk.TINY.items()})
    s.tree.store.close()
