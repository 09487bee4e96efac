"""A hostile LLM server for the tests: a real HTTP server on 127.0.0.1, in a thread, that speaks the
Anthropic Messages API (`/v1/messages`, `/v1/messages/count_tokens`) and the OpenAI chat completions API
(`/v1/chat/completions`) in the shapes real servers and misconfigured proxies send: null or negative usage,
HTML pages and error objects with status 200, bodies of the wrong shape, streams that stall.

Written for tests/test_hostile_llm.py and independent of `trex.fakes`: each case scripts the answers in order."""
import json, socket, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(body=None, status=200, ctype='application/json', delay=0., **headers):
    "One scripted answer: a JSON-able body (or str/bytes sent as is), its status and content type."
    return dict(kind='body', body=body, status=status, ctype=ctype, delay=delay, headers=headers)

def stream(events, stall_after=None, stall=30., close_after=None):
    "An event stream of `events`: it stalls `stall` s after `stall_after` events, or drops the connection after `close_after`."
    return dict(kind='sse', events=events, stall_after=stall_after, stall=stall, close_after=close_after)

# ---- Anthropic shapes
def a_usage(i=10, o=5, cw=0, cr=0): return dict(input_tokens=i, output_tokens=o, cache_creation_input_tokens=cw, cache_read_input_tokens=cr)

def a_msg(content, usage='default', stop='end_turn'):
    "An Anthropic message body; `usage=None` sends `\"usage\": null`, `usage=...` (Ellipsis) leaves the field out."
    m = dict(id='msg_hostile', type='message', role='assistant', model='claude-hostile', content=content, stop_reason=stop, stop_sequence=None)
    if usage is not ...: m['usage'] = a_usage() if usage=='default' else usage
    return m

def a_text(text, usage='default'): return a_msg([dict(type='text', text=text)], usage)
def a_tool(name, input, usage='default'): return a_msg([dict(type='tool_use', id='toolu_h1', name=name, input=input)], usage, 'tool_use')

def a_events(text, usage=None):
    "The stream events of a text answer."
    u = usage or a_usage()
    m = a_msg([], dict(u, output_tokens=0), stop=None)
    evs = [dict(type='message_start', message=m), dict(type='content_block_start', index=0, content_block=dict(type='text', text=''))]
    evs += [dict(type='content_block_delta', index=0, delta=dict(type='text_delta', text=w)) for w in text.split(' ') for w in [w+' ']]
    return evs + [dict(type='content_block_stop', index=0), dict(type='message_delta', delta=dict(stop_reason='end_turn', stop_sequence=None), usage=dict(output_tokens=u['output_tokens'])),
                  dict(type='message_stop')]

def a_error(status, type='overloaded_error', message='Overloaded'): return answer(dict(type='error', error=dict(type=type, message=message)), status, retry_after_ms='1')

# ---- OpenAI shapes
def o_usage(p=10, c=5): return dict(prompt_tokens=p, completion_tokens=c, total_tokens=(p or 0)+(c or 0))

def o_msg(content=None, tool_calls=None, usage='default', finish='stop'):
    m = dict(role='assistant', content=content, **(dict(tool_calls=tool_calls) if tool_calls else {}))
    b = dict(id='chatcmpl-hostile', object='chat.completion', created=1, model='hostile', choices=[dict(index=0, message=m, finish_reason=finish)])
    if usage is not ...: b['usage'] = o_usage() if usage=='default' else usage
    return b

def o_text(text, usage='default'): return o_msg(text, usage=usage)
def o_tool(name, args, usage='default'):
    return o_msg(None, [dict(id='call_h1', type='function', function=dict(name=name, arguments=json.dumps(args)))], usage, 'tool_calls')

def o_events(text, usage=None):
    "The stream chunks of a text answer, the usage in a last chunk."
    ck = lambda d, f=None: dict(id='c1', object='chat.completion.chunk', created=1, model='hostile', choices=[dict(index=0, delta=d, finish_reason=f)])
    return [ck(dict(role='assistant', content=''))] + [ck(dict(content=w+' ')) for w in text.split(' ')] + [ck({}, 'stop'),
            dict(id='c1', object='chat.completion.chunk', created=1, model='hostile', choices=[], usage=usage or o_usage())]

HTML = '<!DOCTYPE html><html><head><title>Sign in</title></head><body>Corporate proxy: please sign in.</body></html>'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass

    def do_POST(self):
        n = int(self.headers.get('content-length') or 0)
        raw = self.rfile.read(n) if n else b''
        srv = self.server.owner
        req = dict(path=self.path.split('?')[0], headers={k.lower(): v for k,v in self.headers.items()}, body=json.loads(raw) if raw else None)
        if req['path'].endswith('/count_tokens'):     # the budget check's count: not part of the script
            return self._send(answer(dict(input_tokens=srv.count)))
        with srv.lock:
            srv.requests.append(req)
            a = srv.script.pop(0) if srv.script else answer(dict(type='error', error=dict(type='api_error', message='hostile server: script exhausted')), 500, x_should_retry='false')
        if a['kind'] == 'sse': return self._sse(a)
        self._send(a)

    def _send(self, a):
        if a.get('delay'): time.sleep(a['delay'])
        b = a['body']
        data = b if isinstance(b, bytes) else b.encode() if isinstance(b, str) else json.dumps(b).encode()
        self.send_response(a['status'])
        for k,v in {'content-type': a['ctype'], **{k.replace('_', '-'): str(v) for k,v in a['headers'].items()}}.items(): self.send_header(k, v)
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, a):
        self.send_response(200)
        self.send_header('content-type', 'text/event-stream')
        self.send_header('connection', 'close')
        self.end_headers()
        self.close_connection = True
        for i,e in enumerate(a['events']):
            if a['stall_after'] is not None and i == a['stall_after']:
                self.wfile.flush(); self.server.owner.stop_evt.wait(a['stall'])
            if a['close_after'] is not None and i == a['close_after']:
                self.wfile.flush(); self.connection.shutdown(socket.SHUT_RDWR); return
            ev = f"event: {e['type']}\n" if 'type' in e else ''
            self.wfile.write(f"{ev}data: {json.dumps(e)}\n\n".encode()); self.wfile.flush()
        if 'type' not in a['events'][-1]: self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class _HTTPD(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address): pass   # a client that gave up closed the socket


class HostileServer:
    "A scripted server: answers in order, records each request (count_tokens aside)."
    def __init__(self, *script, count=100):
        self.script,self.requests,self.count,self.lock,self.stop_evt = list(script),[],count,threading.Lock(),threading.Event()
    def add(self, *script):
        with self.lock: self.script.extend(script)
        return self
    @property
    def url(self): return f"http://127.0.0.1:{self.httpd.server_address[1]}"
    def __enter__(self):
        self.httpd = _HTTPD(('127.0.0.1', 0), _Handler); self.httpd.owner = self
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self
    def __exit__(self, *a):
        self.stop_evt.set(); self.httpd.shutdown(); self.httpd.server_close()
