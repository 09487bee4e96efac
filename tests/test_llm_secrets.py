"""The API key never leaves the process: a whole run (record, replay, errors, debug logs, reprs,
tracebacks) is made in a child process with the key in the environment, and every byte it wrote
(files, stdout, stderr) is scanned for it."""
import os, subprocess, sys, textwrap
from pathlib import Path

KEY = 'sk-ant-api03-LEAKCHECK-7f3a9c2e1b'
ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import json, logging, sys, traceback
    from pathlib import Path
    from pydantic import BaseModel
    from trex.fakes import *
    from trex.llm import *
    from trex.store import Store
    run = Path(sys.argv[1])
    logging.basicConfig(filename=run/'debug.log', level=logging.DEBUG)
    class Idea(BaseModel):
        "A next experiment."
        direction: str
        lr: float
    st = Store.open(run)
    with FakeAnthropic(a_text('hi'), a_tool('Idea', dict(direction='x')), a_tool('Idea', dict(direction='x', lr=1e-4)),
                       a_error(401, 'authentication_error', 'invalid x-api-key', None), *[a_error(529, 'overloaded_error', 'Overloaded')]*2) as srv:
        c = AnthropicClient(base_url=srv.url, max_retries=1, ledger=st, budget=Budget(usd=1))
        rc = ReplayClient(run/'llm.jsonl', c, mode='record')
        print(rc.chat('hello', sp='You plan.'), rc.structured('Plan.', Idea), repr(c), repr(rc), repr(c.last), c.ledger.totals())
        for f in (lambda: c.chat('401 please'), lambda: c.chat('overloaded')):
            try: f()
            except LLMError as e:
                traceback.print_exc(); print(repr(e), vars(e.cause), file=sys.stderr)
                json.dump(dict(err=str(e), cause=repr(e.cause), headers=dict(e.cause.request.headers)), (run/'errors.json').open('a'))
    with FakeOpenAI(o_text('hello from a local server')) as osrv:
        oc = OpenAIClient('local', base_url=osrv.base_url, ledger=st, prices={'local': (0, 0)})
        print(ReplayClient(run/'oai.jsonl', oc, mode='record').chat('hello'), repr(oc))
        assert osrv.requests[0]['headers']['authorization'] == 'Bearer ' + __import__('os').environ['OPENAI_API_KEY']
    assert srv.requests[0]['headers']['authorization'].endswith(__import__('os').environ['ANTHROPIC_API_KEY'])
    print(ReplayClient(run/'llm.jsonl').structured('Plan.', Idea))
    st.close()
''')

def test_key_never_written(tmp_path):
    run = tmp_path/'run'; run.mkdir()
    env = {**os.environ, 'ANTHROPIC_API_KEY': KEY, 'OPENAI_API_KEY': KEY+'-oai', 'PYTHONPATH': str(ROOT)}
    p = subprocess.run([sys.executable, '-c', SCRIPT, str(run)], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    files = [f for f in tmp_path.rglob('*') if f.is_file()]
    names = {f.name for f in files}
    assert {'llm.jsonl', 'oai.jsonl', 'debug.log', 'errors.json', 'trex.db'} <= names, names
    assert b'authentication_error' in p.stderr and b'Overloaded' in p.stderr
    for blob,where in [(f.read_bytes(), str(f)) for f in files] + [(p.stdout, 'stdout'), (p.stderr, 'stderr')]:
        for s in (KEY, KEY[-12:]):
            assert s.encode() not in blob, f"the API key leaked into {where}"
