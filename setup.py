# nbdev's template setup.py, with two changes: no `pkg_resources` (setuptools >= 81 dropped it and
# nbdev's pyproject.toml makes pip build with the newest setuptools), and the extras that nbdev's
# settings.ini cannot express (train, bench, ui, llm, ray, dev, all) declared here, and the lists importable (tests/test_deps.py).
from configparser import ConfigParser
import setuptools, shlex
from pathlib import Path

config = ConfigParser(delimiters=['='])
config.read(Path(__file__).with_name('settings.ini'), encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o:cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache Software License 2.0','OSI Approved :: Apache Software License'),
    'mit': ('MIT License', 'OSI Approved :: MIT License'),
}
statuses = [ '1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive' ]
py_versions = '3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
min_python = cfg['min_python']
console_scripts = cfg.get('console_scripts', '').split()

# Every dependency has a lower bound that CI tests (.ci/constraints.txt is resolved with
# `--resolution lowest-direct`, so CI installs exactly these lower bounds, see tools/lock.sh) and an upper
# bound below the next major version (calendar-versioned rdkit and regex: below the year after next).
# The plain install (`bash tools/install.sh`, no lock) gets the newest versions the bounds allow, and CI
# checks that too (tools/smoke.sh). tests/test_deps.py checks that every import of trex/ and ftbench/ is
# declared here (or in settings.ini's `requirements`) and that everything declared is used.
# torch: on a CPU-only machine install `torch==2.13.0` first (tools/install.sh does), so that pip keeps the
# local CPU wheel instead of a CUDA build.
extras = {
    # trex.models/train/evaluate/recipe (torch, transformers, peft, tokenizers, safetensors, datasets, datasketch);
    # accelerate: transformers' Trainer needs it; gguf: transformers' GGUF loader (SmolLM2); bitsandbytes: QLoRA on CUDA;
    # huggingface-hub: trex.search's dataset search on the Hub
    'train': ['torch>=2.13.0,<3', 'transformers>=5.24.0,<6', 'peft>=0.21.2,<1', 'datasets>=5.2.0,<6', 'accelerate>=1.15.0,<2',
              'bitsandbytes>=0.50.2,<1', 'tokenizers>=0.23.3,<1', 'safetensors>=0.8.0,<1', 'huggingface-hub>=2.4.0,<3',
              'datasketch>=2.0.0,<3', 'gguf>=0.19.0,<1', 'trl>=1.16.0,<2'],
    # ftbench's data and metrics: ROUGE, the metric scripts, RDKit's molecule checks for TOMG-Bench, pandas for the
    # parquet/CSV readers, the Hub download; LawBench's official scorers (ftbench.lawbench): jieba, rouge-chinese, cn2an,
    # rapidfuzz (LCS, Levenshtein), pypinyin and OpenCC (the pure-Python reimplementation)
    'bench': ['datasets>=5.2.0,<6', 'evaluate>=0.4.6,<1', 'rouge-score>=0.1.2,<1', 'rdkit>=2026.9.1,<2028', 'pandas>=3.1.1,<4',
              'huggingface-hub>=2.4.0,<3', 'jieba>=0.42.1,<1', 'rouge-chinese>=1.0.3,<2', 'cn2an>=0.5.24,<1',
              'rapidfuzz>=3.14.6,<4', 'pypinyin>=0.55.0,<1', 'opencc-python-reimplemented>=0.1.7,<1'],
    'ui': ['ipywidgets>=8.1.9,<9', 'plotly>=7.1.0,<8'],
    'llm': ['anthropic>=2.15.0,<3', 'openai>=3.57.0,<4', 'arxiv>=4.0.2,<5'],
    # experiment tracking through transformers' report_to (TensorBoard works offline)
    'track': ['tensorboard>=2.21.0,<3'],
    # a range: the driver's Ray must match the cluster's. CI installs 2.53.0 (its lower bound, via .ci/constraints.txt):
    # from 2.54 the raylet aborts when its agents take over 15 s to start, which they do on a small busy machine.
    # Plain ray (3 packages, ~20 s) rather than ray[default] (~28, the dashboard's); `ray://` needs ray[client].
    'ray': ['ray>=2.53.0,<3'],
    # the notebook/test tool chain: nbdev's pins (settings.ini), the real-browser test (with Debian's chromium),
    # scikit-learn as the reference the ftbench notebooks check their metrics against (and bench/ftbench_bootstrap.py)
    'dev': dev_requirements + ['jupyterlab>=4.6.6,<5', 'playwright>=1.65.2,<2', 'scikit-learn>=1.9.1,<2'],
}
extras['all'] = sorted({r for k in ('train', 'bench', 'ui', 'llm', 'ray', 'track') for r in extras[k]})

if __name__ == '__main__':   # setuptools runs this file as __main__; tests/test_deps.py imports the lists above
    setuptools.setup(
        name = cfg['lib_name'],
        license = lic[0],
        classifiers = [
            'Development Status :: ' + statuses[int(cfg['status'])],
            'Intended Audience :: ' + cfg['audience'].title(),
            'Natural Language :: ' + cfg['language'].title(),
        ] + ['Programming Language :: Python :: '+o for o in py_versions[py_versions.index(min_python):]] + (['License :: ' + lic[1] ] if lic[1] else []),
        url = cfg['git_url'],
        # Two top-level packages in one wheel; `pkgs/` (nbdev's export symlinks) is left out.
        packages = setuptools.find_packages(include=['trex', 'trex.*', 'ftbench', 'ftbench.*']),
        include_package_data = True,
        package_data = {'trex': ['fixtures/*', 'fixtures/**/*'], 'ftbench': ['fixtures/*', 'fixtures/**/*', 'metrics/*/*.py']},
        install_requires = requirements,
        extras_require = extras,
        dependency_links = cfg.get('dep_links','').split(),
        python_requires  = '>=' + cfg['min_python'],
        long_description = Path(__file__).with_name('README.md').read_text(encoding='utf-8'),
        long_description_content_type = 'text/markdown',
        zip_safe = False,
        entry_points = {'console_scripts': console_scripts},
        **setup_cfg)
