"""A real browser on the tutorial: JupyterLab serves a copy of nbs/50_tutorial.ipynb on 127.0.0.1, Debian's
Chromium (driven by Playwright) runs all its cells, clicks Approve in the gate panel, and the database says the
node ran. A second notebook draws a tree of seven nodes (a branch, a failed, a pruned, a running and a waiting node)
with `TreeView`: the test checks the fills, the marker shapes and the hover text Chromium rendered. Screenshots go to
$TREX_TEST_OUT (default ci-out/).

Needs `apt-get install -y chromium` and `pip install playwright` (never `playwright install`: it downloads);
`.ci/run` installs both. Without them the test is skipped with the reason."""
import json, os, secrets, shutil, signal, socket, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT/'nbs'/'50_tutorial.ipynb'
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def _missing()->str:
    why = []
    if not shutil.which('chromium'): why.append('chromium is not installed (Fix: apt-get install -y chromium)')
    try: import playwright.sync_api  # noqa: F401
    except ImportError: why.append('playwright is not installed (Fix: pip install playwright; never `playwright install`)')
    try: import jupyterlab  # noqa: F401
    except ImportError: why.append('jupyterlab is not installed (Fix: pip install -e ".[dev]")')
    return '; '.join(why)

pytestmark = pytest.mark.skipif(bool(_missing()), reason=_missing() or 'ok')

def _port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _status(db:Path, nid:str):
    "The status of node `nid` as the database holds it (read-only), or None."
    if not db.exists(): return None
    c = sqlite3.connect(f'file:{db}?mode=ro', uri=True, timeout=5)
    try: r = c.execute('SELECT status FROM nodes WHERE id=?', (nid,)).fetchone()
    except sqlite3.OperationalError: r = None
    finally: c.close()
    return r[0] if r else None

TREE_NB = 'tree_view.ipynb'
TREE_CODE = """import os; os.environ['HF_HUB_OFFLINE'] = '1'
from pathlib import Path
from trex.schema import *
from trex.tree import SearchTree
from trex.widgets import TreeView
def res(v, x, lo, hi): return VariantResult(variant=v, val=Metric(name='accuracy', value=x, ci_low=lo, ci_high=hi, n=40))
def done(t, nid, rs): t.approve(nid); t.set_status(nid, 'running'); return t.record(nid, rs)
var = lambda *ns: [Variant(name=n) for n in ns]
t = SearchTree.open(Path('tree_run'))
r = t.add(Plan(direction='baseline', goal='evaluate the base model'), status='approved'); t.set_status(r.id, 'running'); t.record(r.id, [res('base', .40, .30, .50)])
a = t.add(Plan(direction='refine_data', goal='drop the noisy sources', variants=var('lr1e-4', 'lr2e-4')), parent=r.id)
done(t, a.id, [res('lr1e-4', .70, .62, .78), res('lr2e-4', .58, .48, .68)])
b = t.add(Plan(direction='change_training', goal='qlora', variants=var('q')), parent=r.id)
t.approve(b.id); t.set_status(b.id, 'running'); t.record(b.id, [VariantResult(variant='q', status='failed', error='oom: CUDA out of memory')])
c = t.add(Plan(direction='scale_data', goal='more data', variants=var('x')), parent=r.id); t.prune(c.id)
g = t.add(Plan(direction='tune_hyperparameters', goal='longer', variants=var('ep2')), parent=a.id)
h = t.add(Plan(direction='fix_format', goal='answer format', variants=var('f')), parent=a.id); t.approve(h.id); t.set_status(h.id, 'running')
tv = TreeView(t, height=560)
tv.fig()                                  # the figure tree.html and s.view() show"""

def _notebook(cells:list)->str:
    return json.dumps(dict(cells=[dict(cell_type='code', id=f'c{i}', metadata={}, source=c, outputs=[], execution_count=None) for i,c in enumerate(cells)],
                           metadata=dict(kernelspec=dict(name='python3', display_name='Python 3 (ipykernel)', language='python')), nbformat=4, nbformat_minor=5))

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on 127.0.0.1 serving a copy of the tutorial and the tree notebook; yields (base url, token, notebook folder)."
    tmp_path = tmp_path_factory.mktemp('lab')
    work, cfg = tmp_path/'work', tmp_path/'jupyter'
    work.mkdir(); (cfg/'labconfig').mkdir(parents=True)
    nb = json.loads(NB.read_text())
    nb['metadata']['kernelspec'] = dict(name='python3', display_name='Python 3 (ipykernel)', language='python')  # no kernel dialog
    (work/NB.name).write_text(json.dumps(nb))
    (work/TREE_NB).write_text(_notebook([TREE_CODE]))
    # no news toast asking for consent (it would cover the page); written in this server's own config folder
    (cfg/'labconfig'/'page_config.json').write_text(json.dumps({'disabledExtensions': {'@jupyterlab/apputils-extension:announcements': True}}))
    tok, port = secrets.token_hex(16), _port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(cfg), JUPYTER_RUNTIME_DIR=str(tmp_path/'runtime'), JUPYTER_DATA_DIR=str(tmp_path/'data'),
               HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', TRANSFORMERS_OFFLINE='1', TOKENIZERS_PARALLELISM='false',
               OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'),
               PYTHONPATH=str(ROOT) + (os.pathsep + os.environ['PYTHONPATH'] if os.environ.get('PYTHONPATH') else ''))
    env.pop('IN_TEST', None)
    log = open(tmp_path/'lab.log', 'wb')
    p = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--allow-root', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                          f'--IdentityProvider.token={tok}', f'--ServerApp.root_dir={work}', '--LabApp.expose_app_in_browser=True',
                          '--ServerApp.port_retries=0'], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        import urllib.request
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f'{base}/api/status?token={tok}', timeout=2).read(); break
            except OSError:
                if p.poll() is not None or time.time()-t0 > 60:
                    pytest.fail(f"JupyterLab did not start (exit {p.poll()}): {(tmp_path/'lab.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield base, tok, work
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)   # the server shuts its kernels down
            try: p.wait(20)
            except subprocess.TimeoutExpired: os.killpg(p.pid, signal.SIGKILL); p.wait()
        log.close()

# JavaScript run in the page
_NB = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_KERNEL = f"() => !!({_NB} && {_NB}.sessionContext && {_NB}.sessionContext.session && {_NB}.sessionContext.session.kernel)"
_READY = f"async () => {{ const w = {_NB}; await w.sessionContext.ready; await w.sessionContext.session.kernel.info; return w.sessionContext.session.kernel.status; }}"
_STATE = f"""() => {{
  const w = {_NB}, cells = w.content.widgets.filter(c => c.model.type === 'code');
  const err = cells.map(c => c.model.outputs.toJSON()).flat().find(o => o.output_type === 'error');
  return {{kernel: w.sessionContext.session.kernel.status, counts: cells.map(c => c.model.executionCount),
          busy: [...w.node.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*')),
          error: err ? err.ename + ': ' + err.evalue + '\\n' + (err.traceback || []).join('\\n') : null}};
}}"""

def _wait(f, what:str, timeout:float, every:float=0.5):
    t0 = time.time()
    while time.time()-t0 < timeout:
        r = f()
        if r: return r
        time.sleep(every)
    pytest.fail(f'timed out after {timeout:.0f} s waiting for {what}')

def test_approve_in_the_browser(lab):
    from playwright.sync_api import sync_playwright
    base, tok, work = lab
    out = Path(os.environ.get('TREX_TEST_OUT') or ROOT/'ci-out'); out.mkdir(parents=True, exist_ok=True)
    db, times, t0 = work/'runs'/'tutorial'/'trex.db', {}, time.time()
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(work.parent/'profile'), executable_path=shutil.which('chromium'), headless=True,
                                                    args=ARGS, viewport=dict(width=1400, height=1000))
        try:
            page = _open(ctx, base, tok, NB.name, 400, times, t0)
            times['run all'] = time.time()-t0
            panel = page.locator('.trex-panel')
            panel.locator('text=n2 waits at the gate').wait_for(timeout=30_000)
            page.locator('.js-plotly-plot').first.wait_for(timeout=30_000)   # the tree is drawn
            assert _status(db, 'n2') == 'proposed'
            btn = panel.locator('button.trex-approve')
            btn.scroll_into_view_if_needed(); assert btn.is_enabled()
            btn.click()
            _wait(lambda: _status(db, 'n2') in ('running', 'done', 'failed'), 'n2 to start after the click', 30, 0.2)
            times['clicked'] = time.time()-t0
            _wait(lambda: _status(db, 'n2') in ('done', 'failed'), 'n2 to finish', 300)
            assert _status(db, 'n2') == 'done', f"n2 ended {_status(db, 'n2')}"
            panel.locator('text=n2 done: score').wait_for(timeout=30_000)     # the page heard back from the thread
            times['n2 done'] = time.time()-t0
            tree = page.locator('.trex-view .js-plotly-plot').first
            _wait(lambda: 'done' in tree.locator('.legendtext').all_text_contents() and not {'running', 'waiting at the gate'} & set(tree.locator('.legendtext').all_text_contents()),
                  'the tree to show all three nodes done', 10)  # redrawn live
            assert panel.locator('button.trex-approve').is_disabled()
            tree.evaluate('e => e.scrollIntoView({block: "start"})')
            page.screenshot(path=str(out/'browser_tutorial.png'))
        except BaseException:
            try: page.screenshot(path=str(out/'browser_failure.png'))
            except Exception: pass
            raise
        finally: ctx.close()
    print('browser test timings (s from page open):', {k: round(v, 1) for k,v in times.items()})
    assert (out/'browser_tutorial.png').stat().st_size > 10_000

_TRACES = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return [...gd.querySelectorAll('.scatterlayer .trace')].map((tr, i) => ({
    name: (gd.data[i] || {}).name,
    points: [...tr.querySelectorAll('path.point')].map(p => ({d: p.getAttribute('d') || '', fill: p.style.fill, opacity: p.style.fillOpacity, stroke: p.style.stroke}))}));
}"""

def _open(ctx, base, tok, name, limit:int=120, times:dict=None, t0:float=None):
    "Open notebook `name`, run all its cells and wait (`limit` s) until they finished without an error; `times` gets when the kernel was ready."
    page = ctx.new_page()
    page.goto(f'{base}/lab/tree/{name}?reset&token={tok}')
    page.wait_for_function(_KERNEL, timeout=60_000)
    page.evaluate(_READY)                             # without this, Run All on a fresh server may do nothing
    if times is not None: times['kernel ready'] = time.time()-t0
    for _ in range(3):                                # Run All; again if no cell starts within 20 s
        page.evaluate('() => { window.jupyterapp.commands.execute("notebook:run-all-cells"); }')
        try: _wait(lambda: (lambda s: s['busy'] or any(s['counts']))(page.evaluate(_STATE)), 'the first cell to run', 20); break
        except pytest.fail.Exception: continue
    def done():
        s = page.evaluate(_STATE)
        if s['error']: pytest.fail(f"a cell of {name} failed in the browser:\n{s['error'][-3000:]}")
        return s['kernel'] == 'idle' and not s['busy'] and all(c is not None for c in s['counts'])
    _wait(done, f'{name} to run', limit)
    return page

def test_tree_in_the_browser(lab):
    "The tree's colours, markers and hover text, as Chromium draws them."
    from playwright.sync_api import sync_playwright
    from trex.tree import SearchTree
    from trex.widgets import TreeView, reward_color, _lim, STATUS_WORDS, GREY
    base, tok, work = lab
    out = Path(os.environ.get('TREX_TEST_OUT') or ROOT/'ci-out'); out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(work.parent/'profile-tree'), executable_path=shutil.which('chromium'), headless=True,
                                                    args=ARGS, viewport=dict(width=1200, height=800))
        try:
            page = _open(ctx, base, tok, TREE_NB)
            plot = page.locator('.js-plotly-plot >> visible=true').first; plot.wait_for(timeout=30_000)
            t = SearchTree.open(work/'tree_run', create=False)
            ids = {n.status: n.id for n in t}
            traces = {tr['name']: tr['points'] for tr in page.evaluate(_TRACES)}
            lim = _lim(t)
            # colours: a done node's fill is its reward on the diverging scale; the base is white
            done = traces[STATUS_WORDS['done']]
            assert [p['fill'] for p in done] == [reward_color(t[n.id].reward, lim) for n in t if n.status == 'done'], done
            assert done[0]['fill'] == 'rgb(247, 247, 247)' and done[1]['fill'] != done[0]['fill']
            # markers: circles (arcs) for done and the hollow pruned one; an x, a star, an hourglass (straight edges)
            assert all('A' in p['d'] for p in done + traces['pruned']), traces
            assert all('A' not in p['d'] for k in ('failed', 'running', STATUS_WORDS['proposed']) for p in traces[k]), traces
            assert traces['pruned'][0]['opacity'] in ('0', '') or traces['pruned'][0]['fill'] in ('none', ''), traces['pruned']
            assert len([p for ps in traces.values() for p in ps]) == len(t) >= 6
            # the hover of the best node: plan, score with interval, variants, reward
            best = t.best()
            i = [n.id for n in t if n.status == 'done'].index(best.id)
            pt = page.locator('.js-plotly-plot .scatterlayer .trace').nth([tr['name'] for tr in page.evaluate(_TRACES)].index(STATUS_WORDS['done'])).locator('path.point').nth(i)
            bb = pt.bounding_box(); page.mouse.move(bb['x'] + bb['width']/2, bb['y'] + bb['height']/2)   # plotly's drag layer takes the events
            hv = page.locator('.hoverlayer .hovertext').first; hv.wait_for(timeout=10_000)
            text = hv.text_content()
            for x in [best.id, 'drop the noisy sources', 'accuracy 0.7 [0.62, 0.78] (lr1e-4)', 'lr2e-4: 0.58 [0.48, 0.68]', f'reward {best.reward:+.3f} against the base', 'next by UCT']:
                assert x in text, (x, text)
            plot.screenshot(path=str(out/'browser_tree.png'))
        except BaseException:
            try: page.screenshot(path=str(out/'browser_tree_failure.png'))
            except Exception: pass
            raise
        finally: ctx.close()
    assert (out/'browser_tree.png').stat().st_size > 10_000
