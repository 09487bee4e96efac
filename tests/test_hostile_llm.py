"""trex's LLM clients against a hostile server (tests/hostile_server.py, real HTTP on localhost): usage that is null,
missing or negative; HTML pages, error objects and wrong shapes with status 200; streams that stall or are cut;
credentials in the base URL. Each case ends in a kept answer, a retry, or a clear `LLMError` naming the server,
never a raw exception; nothing is charged twice, negative usage is never credited, and the key is in no file."""
import json, time, warnings
import pytest
from pydantic import BaseModel
from hostile_server import *
from trex.llm import AnthropicClient, OpenAIClient, Budget, BudgetExceeded, LLMError, LLMUnavailable, ReplayClient, client_from_settings
from trex.store import Store

KEY = 'sk-hostile-test-KEY-0123456789abcdef'
KINDS = ['anthropic', 'openai']

class Idea(BaseModel):
    "A next experiment."
    direction: str
    lr: float

def mk(kind, srv, **kw):
    kw = dict(retries=0, timeout=2.) | kw
    sa = kw.pop('stream_above', None)
    if kind == 'anthropic' and sa: kw['stream_above'] = sa
    if kind == 'anthropic': return AnthropicClient('claude-haiku-4-5', api_key=KEY, base_url=srv.url, **kw)
    return OpenAIClient('gpt-test', api_key=KEY, base_url=srv.url+'/v1', prices={'gpt-test': (1.0, 2.0)}, **kw)

# one scripted answer of each kind, per API
def ok(kind, text='fine', usage='default'): return answer(a_text(text, usage) if kind == 'anthropic' else o_text(text, usage))
def tool(kind, args): return answer(a_tool('Idea', args) if kind == 'anthropic' else o_tool('Idea', args))
def err200(kind, transient=True):
    if kind == 'anthropic': return answer(dict(type='error', error=dict(type='overloaded_error' if transient else 'invalid_request_error', message='upstream says no')))
    return answer(dict(error=dict(type='server_error' if transient else 'invalid_request_error', message='upstream says no', code=503 if transient else 400)))
def events(kind, text): return a_events(text) if kind == 'anthropic' else o_events(text)
def null_usage(kind): return dict(input_tokens=None, output_tokens=None) if kind == 'anthropic' else dict(prompt_tokens=None, completion_tokens=None, total_tokens=None)
def neg_usage(kind): return a_usage(-5000, -100) if kind == 'anthropic' else o_usage(-5000, -100)

def quiet(f, *a, **kw):
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); return f(*a, **kw)

def fails(f, exc=LLMError):
    "The error `f()` raises: an `exc`, never a raw exception, never the key."
    with pytest.raises(exc) as ei: quiet(f)
    assert KEY not in str(ei.value) and KEY[-12:] not in str(ei.value)
    return str(ei.value)

# ---- usage
@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('case', ['null', 'missing', 'negative'])
def test_bad_usage_keeps_the_answer_and_estimates(kind, case):
    u = dict(null=null_usage(kind), missing=..., negative=neg_usage(kind))[case]
    with HostileServer(ok(kind, 'a valid answer', u)) as s:
        c = mk(kind, s)
        with pytest.warns(UserWarning, match='estimated'): assert c.chat('hello there') == 'a valid answer'
        (row,) = c.ledger.rows
        assert row['tokens_in'] > 0 and row['tokens_out'] > 0 and row['usd'] > 0   # estimated, never negative, never zero
        assert 'estimated' in row['note'] and (case != 'negative' or '-5000' in row['note'])
        assert c.use.tokens_in == row['tokens_in'] and c.last.usd == pytest.approx(row['usd'])

@pytest.mark.parametrize('kind', KINDS)
def test_negative_usage_never_credited_against_a_budget(kind):
    with HostileServer(*[ok(kind, 'x', neg_usage(kind))]*3, ok(kind, 'y')) as s:
        c = mk(kind, s, budget=Budget(usd=10))
        for _ in range(4): quiet(c.chat, 'go')
        t = c.ledger.totals()
        assert t['n'] == 4 and t['usd'] > 0 and t['tokens_in'] > 0 and min(r['usd'] for r in c.ledger.rows) > 0

@pytest.mark.parametrize('kind', KINDS)
def test_null_usage_in_a_structured_answer(kind):
    a = answer(a_tool('Idea', dict(direction='refine_data', lr=1e-4), null_usage(kind)) if kind == 'anthropic' else
               o_tool('Idea', dict(direction='refine_data', lr=1e-4), null_usage(kind)))
    with HostileServer(a) as s:
        c = mk(kind, s)
        assert quiet(c.structured, 'plan', Idea).lr == 1e-4 and len(c.ledger.rows) == 1

# ---- bodies with status 200
@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('body,ctype', [(HTML, 'text/html'), (HTML, 'application/json'), ('', 'application/json')])
def test_non_json_200_is_a_clear_error_not_retried(kind, body, ctype):
    with HostileServer(answer(body, ctype=ctype), ok(kind)) as s:
        c = mk(kind, s, retries=2)
        m = fails(lambda: c.chat('hi'))
        assert s.url in m and 'status 200' in m and ('not JSON' in m or 'not a' in m), m
        assert len(s.requests) == 1 and c.ledger.rows == []

@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('body', [dict(foo=1), [1, 2], dict(id='x', type='message'), dict(id='x', choices=[])])
def test_wrong_shape_200_is_a_clear_error(kind, body):
    with HostileServer(answer(body)) as s:
        c = mk(kind, s, retries=2)
        m = fails(lambda: c.chat('hi'))
        assert 'status 200' in m and s.url in m and 'base_url' in m, m
        assert len(s.requests) == 1 and c.ledger.rows == []

@pytest.mark.parametrize('kind', KINDS)
def test_transient_error_object_200_is_retried_and_charged_once(kind):
    with HostileServer(err200(kind), err200(kind), ok(kind, 'after two')) as s:
        c = mk(kind, s, retries=2)
        assert c.chat('hi') == 'after two'
        assert len(s.requests) == 3 and len(c.ledger.rows) == 1 and c.use.calls == 1

@pytest.mark.parametrize('kind', KINDS)
def test_error_object_200_after_the_retries(kind):
    with HostileServer(err200(kind), err200(kind)) as s:
        m = fails(lambda: mk(kind, s, retries=1).chat('hi'), LLMUnavailable)
        assert 'after 1 retries' in m and 'upstream says no' in m and s.url in m
    with HostileServer(err200(kind, transient=False), ok(kind)) as s:
        m = fails(lambda: mk(kind, s, retries=3).chat('hi'))
        assert 'invalid_request_error' in m and len(s.requests) == 1

# ---- stalls, cuts and timeouts
def streamed(kind, c, **kw):
    "A call that streams: Anthropic streams long structured calls; the OpenAI client streams in `stream`."
    if kind == 'anthropic': return c.chat('tell me', maxtok=200, **kw)
    return ''.join(c.stream('tell me', **kw))

@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('broken', ['stall', 'cut'])
def test_broken_stream_before_text_is_retried(kind, broken):
    bad = stream(events(kind, 'lost words'), stall_after=1, stall=20) if broken == 'stall' else stream(events(kind, 'lost words'), close_after=1)
    with HostileServer(bad, stream(events(kind, 'the whole answer'))) as s:
        c = mk(kind, s, retries=1, timeout=0.8, stream_above=100)
        t0 = time.time()
        assert streamed(kind, c).strip() == 'the whole answer'
        assert time.time()-t0 < 8 and len(s.requests) == 2 and len(c.ledger.rows) == 1

@pytest.mark.parametrize('kind', KINDS)
def test_stalled_stream_gives_up_after_the_retries(kind):
    with HostileServer(*[stream(events(kind, 'never'), stall_after=1, stall=20)]*3) as s:
        c = mk(kind, s, retries=2, timeout=0.5, stream_above=100)
        t0 = time.time()
        m = fails(lambda: streamed(kind, c), LLMUnavailable)
        assert time.time()-t0 < 10 and len(s.requests) == 3 and c.ledger.rows == []
        assert 'after 2 retries' in m and s.url in m, m

@pytest.mark.parametrize('kind', KINDS)
def test_a_page_instead_of_an_event_stream(kind):
    with HostileServer(answer(HTML, ctype='text/html'), ok(kind)) as s:      # a login page: an error at once
        m = fails(lambda: list(mk(kind, s, retries=2).stream('go')))
        assert 'instead of an event stream' in m and 'Sign in' in m and len(s.requests) == 1
    with HostileServer(err200(kind), stream(events(kind, 'streamed after all'))) as s:   # a passing overload as JSON: retried
        c = mk(kind, s, retries=1)
        assert ''.join(c.stream('go')).strip() == 'streamed after all' and len(s.requests) == 2 and len(c.ledger.rows) == 1

def test_stream_cut_after_text_is_not_retried():
    for kind in KINDS:
        with HostileServer(stream(events(kind, 'one two three four'), close_after=4), ok(kind)) as s:
            c = mk(kind, s, retries=3)
            got = []
            with pytest.raises(LLMUnavailable, match='already read'):
                for t in c.stream('go'): got.append(t)
            assert got and len(s.requests) == 1 and c.ledger.rows == []

@pytest.mark.parametrize('kind', KINDS)
def test_read_timeout_is_retried_then_bounded(kind):
    late = lambda: dict(ok(kind, 'late'), delay=3)
    with HostileServer(late(), ok(kind, 'in time')) as s:
        c = mk(kind, s, retries=1, timeout=0.6)
        assert c.chat('hi') == 'in time' and len(c.ledger.rows) == 1
    with HostileServer(late(), late()) as s:
        t0 = time.time()
        m = fails(lambda: mk(kind, s, retries=1, timeout=0.6).chat('hi'), LLMUnavailable)
        assert time.time()-t0 < 6 and 'after 1 retries' in m

# ---- credentials and settings
@pytest.mark.parametrize('kind', KINDS)
@pytest.mark.parametrize('url', ['http://user:{k}@127.0.0.1:1', 'http://{k}@127.0.0.1:1/v1', 'http://127.0.0.1:1/v1?api_key={k}'])
def test_credentials_in_the_base_url_are_refused(kind, url):
    cls = AnthropicClient if kind == 'anthropic' else OpenAIClient
    m = fails(lambda: cls('m', base_url=url.format(k=KEY), api_key=KEY))
    assert 'carries credentials' in m and 'Fix:' in m

@pytest.mark.parametrize('kind', KINDS)
def test_a_server_that_echoes_the_key_gets_it_redacted(kind):
    e = answer(dict(type='error', error=dict(type='authentication_error', message=f'bad key {KEY}')) if kind == 'anthropic' else
               dict(error=dict(type='invalid_request_error', message=f'bad key {KEY}')), 403)
    with HostileServer(e) as s: assert '***' in fails(lambda: mk(kind, s).chat('hi'))

@pytest.mark.parametrize('kind', KINDS)
def test_settings_rebuild_the_same_client(kind, tmp_path):
    with HostileServer(ok(kind, 'one'), ok(kind, 'two')) as s:
        c = mk(kind, s, retries=2, timeout=7.5)
        (tmp_path/'llm.json').write_text(json.dumps(c.settings()))
        d = json.loads((tmp_path/'llm.json').read_text())
        assert d['base_url'].startswith(s.url) and (d['timeout'], d['retries']) == (7.5, 2)
        c2 = client_from_settings(d, api_key=KEY)
        assert c.chat('a') == 'one' and c2.chat('b') == 'two' and len(s.requests) == 2
    assert KEY.encode() not in (tmp_path/'llm.json').read_bytes()

# ---- the run's store as the ledger; the key in no file
@pytest.mark.parametrize('kind', KINDS)
def test_store_ledger_budget_and_no_key_in_any_file(kind, tmp_path):
    st = Store.open(tmp_path/'run')
    script = [ok(kind, 'a', null_usage(kind)), err200(kind), ok(kind, 'b', neg_usage(kind)),
              stream(events(kind, 'lost'), close_after=1), stream(events(kind, 'streamed answer')),
              answer(HTML, ctype='text/html'), tool(kind, dict(direction='x', lr=0.1))]
    with HostileServer(*script) as s:
        c = mk(kind, s, retries=1, timeout=1)
        c.ledger, c.budget = st, Budget(usd=5)           # how a session attaches its run
        rc = ReplayClient(tmp_path/'run'/'llm.jsonl', c, mode='record')
        assert quiet(rc.chat, 'first') == 'a' and quiet(rc.chat, 'second') == 'b'
        assert ''.join(c.stream('tell me')).strip() == 'streamed answer'   # cut before its text, then streamed again
        fails(lambda: rc.chat('third'))
        assert quiet(rc.structured, 'plan', Idea).lr == 0.1
        (tmp_path/'run'/'settings.json').write_text(json.dumps(rc.settings()))
        t = st.totals()
        assert t['n'] == 4 and t['usd'] > 0 and t['tokens_in'] > 0        # four answers, each charged once
        c.budget = Budget(usd=t['usd'])                                     # no room left: refused before sending
        n = len(s.requests)
        fails(lambda: c.chat('over'), BudgetExceeded)
        assert len(s.requests) == n
    st.close()
    files = [f for f in tmp_path.rglob('*') if f.is_file()]
    assert {'trex.db', 'llm.jsonl', 'settings.json'} <= {f.name for f in files}
    for f in files: assert KEY.encode() not in f.read_bytes() and KEY[-12:].encode() not in f.read_bytes(), f
