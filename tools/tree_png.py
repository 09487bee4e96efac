"""A picture of a run's tree, as a browser draws its `tree.html` (the figure `trex show --html` writes).

    python tools/tree_png.py runs/demo nbs/images/demo_tree.png [--width 1400 --height 800]

Opens RUN_DIR/tree.html (plotly inlined: it draws offline) in Chromium through Playwright (the `dev` extra; Debian's
chromium, as tests/test_browser.py uses), waits for the plot, and saves a screenshot of it. README's picture of the
demo's tree is made this way.
"""
import argparse, shutil, sys
from pathlib import Path

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run_dir', type=Path)
    ap.add_argument('out', type=Path)
    ap.add_argument('--width', type=int, default=1400)
    ap.add_argument('--height', type=int, default=800)
    a = ap.parse_args(argv)
    html = a.run_dir/'tree.html'
    if not html.exists(): sys.exit(f"run_dir: {html} does not exist. Fix: run `trex show {a.run_dir} --html` first.")
    exe = shutil.which('chromium')
    if exe is None: sys.exit("chromium: not found. Fix: apt-get install -y chromium (as .ci/run does).")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=['--no-sandbox'])
        page = b.new_page(viewport=dict(width=a.width, height=a.height))
        page.goto(html.resolve().as_uri())
        plot = page.locator('.js-plotly-plot').first
        plot.wait_for(timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .scatterlayer .trace').length > 0", timeout=60_000)
        a.out.parent.mkdir(parents=True, exist_ok=True)
        plot.screenshot(path=str(a.out))
        b.close()
    print(f"{a.out}: the tree of {a.run_dir}")

if __name__ == '__main__': main()
