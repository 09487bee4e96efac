"""Generation throughput: the trex evaluation path (trex.evaluate.generate) against plain `generate` on the same prompts and batch.

Plain: one `model.generate` per batch of 64 prompts in input order, dynamic cache (../shared/bench/gen_baseline.py).
trex: prompts sorted by length into batches (left padding), greedy, and on CUDA the static KV cache.
Both generate exactly NEW tokens per prompt (min_new_tokens), after WARM warm-up rounds. Prints new tokens/s and the ratio,
writes $OUT/eval_throughput.json. Target on a GPU (random Qwen3-1.7B shape, 128-token prompts, 128 new tokens, batch 64): 10x plain.

- CPU (CI): the tiny random Llama, prompts of mixed lengths, no threshold. SIZE=tiny forces it on any device.
"""
import argparse
if __name__ == '__main__':   # --help prints the purpose and the settings before anything is imported or run
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog='Settings (environment variables): SIZE=tiny forces the tiny model; OUT=folder for eval_throughput.json (default: a temp folder); WARM=warm-up rounds.').parse_args()
import gc, json, os, random, sys, tempfile, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from trex.models import tiny_model
from trex.evaluate import generate

CUDA = torch.cuda.is_available() and os.environ.get('SIZE') != 'tiny'
OUT = Path(os.environ.get('OUT') or tempfile.mkdtemp()); OUT.mkdir(parents=True, exist_ok=True)
N, BATCH, NEW, PROMPT = (256, 64, 128, 128) if CUDA else (32, 8, 16, 48)
WARM = int(os.environ.get('WARM', 2 if CUDA else 1))


def load():
    "Model and tokenizer: tiny on the CPU; a random Qwen3-1.7B shape in bf16 with the tiny tokenizer on CUDA."
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config
    tiny = tiny_model()
    tok = AutoTokenizer.from_pretrained(tiny, padding_side='left')
    if not CUDA: return AutoModelForCausalLM.from_pretrained(tiny).eval(), tok
    cfg = Qwen3Config(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                      num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, tie_word_embeddings=True)
    with torch.device('cuda'): m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    return m.eval(), tok


def prompts(tok):
    "N chat prompts of roughly PROMPT tokens (mixed lengths, 50-100% of PROMPT)."
    r = random.Random(0)
    words = "the a good bad film plot order event price rate bank note patient doctor answer question label text".split()
    return [[{'role': 'user', 'content': ' '.join(r.choice(words) for _ in range(r.randint(PROMPT//2, PROMPT)))}] for _ in range(N)]


def sync():
    if CUDA: torch.cuda.synchronize()


def plain(m, tok, ps):
    "Plain generate, BATCH prompts at a time in input order, dynamic cache."
    out = 0
    for b in range(0, len(ps), BATCH):
        enc = tok.apply_chat_template(ps[b:b+BATCH], add_generation_prompt=True, padding=True, return_tensors='pt', return_dict=True).to(m.device)
        with torch.inference_mode():
            g = m.generate(**enc, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False, pad_token_id=tok.pad_token_id)
        out += (g.shape[1] - enc['input_ids'].shape[1])*g.shape[0]
    return out


def trex_path(m, tok, ps):
    "The evaluation path: length-sorted batches, left padding; static cache on CUDA."
    g = generate(m, tok, ps, max_new_tokens=NEW, batch_size=BATCH, cache='static' if CUDA else 'dynamic', min_new_tokens=NEW)
    return NEW*len(g)


def timed(f, *a):
    for _ in range(WARM): f(*a)
    sync(); t = time.perf_counter(); n = f(*a); sync()
    dt = time.perf_counter() - t
    return dict(new_tokens_per_s=round(n/dt, 1), s=round(dt, 2))


if __name__ == '__main__':
    res = dict(device=torch.cuda.get_device_name(0) if CUDA else 'cpu', n=N, batch=BATCH, new=NEW, prompt=PROMPT)
    m, tok = load(); ps = prompts(tok)
    for name, f in (('plain', plain), ('trex', trex_path)):
        try: res[name] = timed(f, m, tok, ps)
        except Exception as e:
            import traceback; traceback.print_exc(); res[name] = dict(error=repr(e)[:300])
        print(name, res[name], flush=True)
    if 'new_tokens_per_s' in res.get('trex', {}) and 'new_tokens_per_s' in res.get('plain', {}):
        res['speedup'] = round(res['trex']['new_tokens_per_s']/res['plain']['new_tokens_per_s'], 2)
    (OUT/'eval_throughput.json').write_text(json.dumps(res, indent=1))
    print('RESULT', json.dumps(res))
