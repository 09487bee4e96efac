"""A real browser on the tutorial: JupyterLab serves a copy of nbs/50_tutorial.ipynb on 127.0.0.1, Debian's
Chromium (driven by Playwright) runs all its cells, clicks Approve in the gate panel, and the database says the
node ran. A screenshot goes to $TREX_TEST_OUT (default ci-out/).

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

@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on 127.0.0.1 serving a copy of the tutorial; yields (base url, token, notebook folder)."
    work, cfg = tmp_path/'work', tmp_path/'jupyter'
    work.mkdir(); (cfg/'labconfig').mkdir(parents=True)
    nb = json.loads(NB.read_text())
    nb['metadata']['kernelspec'] = dict(name='python3', display_name='Python 3 (ipykernel)', language='python')  # no kernel dialog
    (work/NB.name).write_text(json.dumps(nb))
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
            page = ctx.new_page()
            page.goto(f'{base}/lab/tree/{NB.name}?reset&token={tok}')
            page.wait_for_function(_KERNEL, timeout=60_000)
            page.evaluate(_READY)                             # without this, Run All on a fresh server may do nothing
            times['kernel ready'] = time.time()-t0
            for _ in range(3):                                # Run All; again if no cell starts within 20 s
                page.evaluate('() => { window.jupyterapp.commands.execute("notebook:run-all-cells"); }')
                try: _wait(lambda: (lambda s: s['busy'] or any(s['counts']))(page.evaluate(_STATE)), 'the first cell to run', 20); break
                except pytest.fail.Exception: continue
            def done():
                s = page.evaluate(_STATE)
                if s['error']: pytest.fail(f"a tutorial cell failed in the browser:\n{s['error'][-3000:]}")
                return s['kernel'] == 'idle' and not s['busy'] and all(c is not None for c in s['counts'])
            _wait(done, 'Run All to finish', 400)
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
            _wait(lambda: tree.locator('.legendtext').all_text_contents() == ['done'], 'the tree to show all three nodes done', 10)  # redrawn live
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
