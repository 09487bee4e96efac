# nbdev's template setup.py, with two changes: no `pkg_resources` (setuptools >= 81 dropped it and
# nbdev's pyproject.toml makes pip build with the newest setuptools), and the extras that nbdev's
# settings.ini cannot express (train, ui, llm, ray, all) declared here.
from configparser import ConfigParser
import setuptools, shlex

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
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

# torch is deliberately unpinned here: on a CPU-only machine install `torch==2.13.0` first (the
# README's commands and `.ci/run` do), so that pip keeps the local CPU wheel instead of a CUDA build.
extras = {
    'train': ['torch>=2.4', 'transformers>=5.17', 'peft>=0.17', 'datasets>=4.0', 'accelerate>=1.10',
              'bitsandbytes>=0.46.1', 'trl>=1.0', 'evaluate>=0.4.5', 'rouge-score>=0.1.2',
              'scikit-learn>=1.5', 'datasketch>=1.6', 'gguf>=0.17'],
    # ftbench's data and metrics: ROUGE, F1/accuracy, RDKit's molecule checks for TOMG-Bench
    'bench': ['datasets>=4.0', 'evaluate>=0.4.5', 'rouge-score>=0.1.2', 'scikit-learn>=1.5', 'rdkit>=2024.3',
              'pandas>=2.0', 'huggingface-hub>=0.30'],
    'ui': ['ipywidgets>=8.1', 'plotly>=6.0', 'anywidget>=0.9'],
    'llm': ['anthropic>=2.0', 'openai>=1.60'],
    # plain ray (3 packages, ~20 s) rather than ray[default] (~28, the dashboard's); 2.53.0 because from 2.54 the raylet
    # aborts when its agents take over 15 s to start, which they do on a small busy machine. `ray://` needs ray[client].
    'ray': ['ray==2.53.0'],
    'dev': dev_requirements + ['jupyterlab>=4.2', 'playwright>=1.45'],   # the real-browser test (with Debian's chromium)
}
extras['all'] = sorted({r for k in ('train', 'bench', 'ui', 'llm', 'ray') for r in extras[k]})

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
    long_description = open('README.md', encoding='utf-8').read(),
    long_description_content_type = 'text/markdown',
    zip_safe = False,
    entry_points = {'console_scripts': console_scripts},
    **setup_cfg)
