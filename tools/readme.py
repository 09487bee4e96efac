"""README.md is written from nbs/index.ipynb (nbdev_readme needs Quarto, which this stack does not install).

    python tools/readme.py           # write README.md from the notebook
    python tools/readme.py --check   # exit 1 when README.md is not what the notebook gives

Markdown cells are copied as they are; code cells become ```python blocks (cells marked `#| hide` are left out), each
followed by its kept outputs (printed text as a plain block, a rich result as its markdown).
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def output(o:dict)->str:
    "A kept output as README text: printed text in a plain block, a rich result as its markdown (else its text)."
    if o.get('output_type') == 'stream': return '```\n' + ''.join(o['text']).rstrip('\n') + '\n```'
    data = o.get('data', {})
    if 'text/markdown' in data: return ''.join(data['text/markdown']).strip('\n')
    if 'text/plain' in data: return '```\n' + ''.join(data['text/plain']).rstrip('\n') + '\n```'
    return ''

def render(nb:Path)->str:
    cells = json.loads(nb.read_text())['cells']
    out = []
    for c in cells:
        src = ''.join(c['source']).strip('\n')
        if not src: continue
        if c['cell_type'] == 'markdown': out.append(src)
        elif c['cell_type'] == 'code' and not src.lstrip().startswith('#| hide'):
            out.append('```python\n' + '\n'.join(l for l in src.splitlines() if not l.startswith('#|')) + '\n```')
            out += [o for o in map(output, c.get('outputs', [])) if o]
    return '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    text, readme = render(root/'nbs'/'index.ipynb'), root/'README.md'
    if '--check' in sys.argv:
        if readme.read_text() != text: print('README.md differs from nbs/index.ipynb: run python tools/readme.py'); sys.exit(1)
    else: readme.write_text(text)
