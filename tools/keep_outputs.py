"""Run a notebook and keep the outputs of chosen cells, so that it reads on GitHub (the tutorial, `index`, each
module's main example); every other cell is left without outputs.

    python tools/keep_outputs.py nbs/50_tutorial.ipynb              # rerun; refresh the cells that keep outputs now
    python tools/keep_outputs.py nbs/02_tree.ipynb --add ID [ID ...]  # ... and keep these cells' outputs too
    python tools/keep_outputs.py nbs/02_tree.ipynb --drop ID [ID ...] # ... and stop keeping these

The notebook runs with nbclient in its own folder, with the hubs offline, cells marked `#| eval: false` or with a test flag
(`#| slow`, `#| gpu`...) left out, as the tests run it. Widget state and
widget views are stripped (their text form stays); then `nbdev_clean` runs on the file, which leaves it a no-op for
the next `nbdev_clean`. Choose cells whose output is deterministic: no temporary paths, timings or addresses.
"""
import argparse, json, os, re, subprocess, sys
from pathlib import Path

WIDGET = 'application/vnd.jupyter.widget-view+json'
FLAGS = ('slow', 'gpu', 'browser', 'device')   # settings.ini's tst_flags: cells marked so run only when asked for, in tests too

def _strip(out:dict)->dict|None:
    "An output without widget views (None when nothing else is left)."
    if 'data' not in out: return out
    data = {k: v for k, v in out['data'].items() if k != WIDGET}
    if not data: return None
    out['data'] = data
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('nb', type=Path)
    ap.add_argument('--add', nargs='*', default=[], help='cell ids whose outputs to keep from now on')
    ap.add_argument('--drop', nargs='*', default=[], help='cell ids whose outputs to stop keeping')
    ap.add_argument('--timeout', type=int, default=1200, help='seconds a cell may run')
    a = ap.parse_args(argv)
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(a.nb, as_version=4)
    ids = {c.get('id') for c in nb.cells}
    unknown = [i for i in a.add + a.drop if i not in ids]
    if unknown: sys.exit(f"--add/--drop: no cell with id {', '.join(unknown)} in {a.nb}. Fix: use the ids of its cells.")
    keep = {c.get('id') for c in nb.cells if c.cell_type == 'code' and c.get('outputs')} | set(a.add)
    keep -= set(a.drop)
    for k in ('HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'TRANSFORMERS_OFFLINE'): os.environ.setdefault(k, '1')
    off = re.compile(r'^\s*#\|\s*(eval:\s*false|(%s)\b)' % '|'.join(FLAGS), re.M)
    skip = {i: c.source for i, c in enumerate(nb.cells) if c.cell_type == 'code' and off.search(c.source)}
    for i in skip: nb.cells[i].source = ''   # not run, as nbdev_test does not run them
    try: NotebookClient(nb, timeout=a.timeout, kernel_name='python3', resources={'metadata': {'path': str(a.nb.parent)}}).execute()
    finally:
        for i, src in skip.items(): nb.cells[i].source = src
    for c in nb.cells:
        if c.cell_type != 'code': continue
        c.outputs = [o for o in map(_strip, c.outputs) if o is not None] if c.get('id') in keep else []
    nb.metadata.pop('widgets', None)
    nbformat.write(nb, a.nb)
    subprocess.run(['nbdev_clean', '--fname', str(a.nb)], check=True)
    print(f"{a.nb}: {len(keep)} cells keep their outputs")

if __name__ == '__main__': main()
