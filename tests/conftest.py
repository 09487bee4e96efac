"""pytest settings of the suite: tests marked `slow` run only when TREX_TEST_FLAGS holds `slow` (as the notebooks' `#| slow` cells)."""
import os
import pytest

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long check (a real model, a benchmark); run with TREX_TEST_FLAGS=slow')

def pytest_collection_modifyitems(config, items):
    if 'slow' in os.environ.get('TREX_TEST_FLAGS', '').split(): return
    skip = pytest.mark.skip(reason='slow: set TREX_TEST_FLAGS=slow to run it')
    for it in items:
        if 'slow' in it.keywords: it.add_marker(skip)
