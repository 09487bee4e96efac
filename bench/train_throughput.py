"""Training throughput: the trex Executor's training path against plain transformers + peft (+ bitsandbytes on CUDA).

Same model, same data (the same token ids and completion-only labels), same LoRA settings, in one process.
Prints tokens/s and peak memory of each path and their ratios, and writes $OUT/train_throughput.json.

- CPU (CI): a tiny random Llama (trex.models.tiny_model), no threshold.
- CUDA: a random-initialised Qwen3-1.7B-shaped model (the config of ../shared/bench/qlora_baseline.py), sequence 1024,
  micro-batch 8, LoRA r=16 on all linear layers, gradient checkpointing, bf16 compute. The baseline is that script's
  QLoRA loop (nf4 + double quantisation, autocast bf16). Target: trex >= 2x baseline tokens/s at <= 0.5x its peak memory.

Each (path, repeat) runs in a fresh child process (its own peak memory, no state carried between paths), the two paths
alternating in order from one repeat to the next; the table gives each path's median tokens/s with its min-max spread,
and the ratios of the medians. On a CPU one run of a few steps of the tiny model times noise (0.15x to 17x between
runs): use MODEL=smollm2, enough STEPS and REPEATS there.

SIZE=tiny forces the tiny model on any device; MODEL=smollm2 uses SmolLM2-135M on the CPU; STEPS and WARM override the
step counts; REPEATS the runs per path (default 1 on CUDA, 3 on the CPU).
"""
import argparse
if __name__ == '__main__':   # --help prints the purpose and the settings before anything is imported or run
    _ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog='Settings (environment variables): SIZE=tiny forces the tiny model; MODEL=smollm2 (CPU); STEPS and WARM, the timed and warm-up steps; REPEATS; OUT=folder for train_throughput.json (default: a temp folder).')
    _ap.add_argument('--child', nargs=3, metavar=('PATH', 'MODEL', 'DATA'), help=argparse.SUPPRESS)   # one timed run, in a child
    ARGS = _ap.parse_args()
import gc, json, os, resource, shutil, sys, tempfile, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from trex.models import tiny_model
from trex.schema import TrainConfig
from trex.train import train, tokenize, read_log

CUDA = torch.cuda.is_available() and os.environ.get('SIZE') != 'tiny'
OUT = Path(os.environ.get('OUT') or tempfile.mkdtemp()); OUT.mkdir(parents=True, exist_ok=True)
TMP = Path(tempfile.mkdtemp())
SEQ, MB = (1024, 8) if CUDA else (128, 4)
SMOL = not CUDA and os.environ.get('MODEL') == 'smollm2'
WARM, STEPS = int(os.environ.get('WARM', 3)), int(os.environ.get('STEPS', 10 if CUDA else 30 if SMOL else 20))
REPEATS = int(os.environ.get('REPEATS', 1 if CUDA else 3))
TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']


def model_folder():
    "The model: tiny on the CPU; a random Qwen3-1.7B shape on CUDA, saved with the tiny BPE tokenizer (ids < 512)."
    tiny = tiny_model()
    if SMOL:
        from trex.models import smollm2
        return str(smollm2())
    if not CUDA: return str(tiny)
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config
    cfg = Qwen3Config(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                      num_key_value_heads=8, head_dim=128, max_position_embeddings=40960, tie_word_embeddings=True)
    tok = AutoTokenizer.from_pretrained(tiny)
    cfg.pad_token_id, cfg.eos_token_id, cfg.bos_token_id = tok.pad_token_id, tok.eos_token_id, tok.bos_token_id
    with torch.device('cuda'): m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    p = TMP/'q3'; m.save_pretrained(p); tok.save_pretrained(p)
    del m; gc.collect(); torch.cuda.empty_cache()
    return str(p)


def data(n):
    "n chat rows, each at least SEQ tokens (a short prompt, a long completion); truncation makes them exactly SEQ."
    import random, datasets
    r = random.Random(0)
    words = "the a good bad film plot order event price rate bank note patient doctor answer question label text".split()
    txt = lambda k: ' '.join(r.choice(words) for _ in range(k))
    rows = [dict(prompt=[{'role': 'user', 'content': txt(SEQ//8)}], completion=[{'role': 'assistant', 'content': txt(2*SEQ)}]) for _ in range(n)]
    p = TMP/'data'; datasets.DatasetDict(train=datasets.Dataset.from_list(rows)).save_to_disk(str(p))
    return str(p)


def peak(reset=False):
    "Peak memory in GiB: CUDA allocator peak, or the process's peak RSS on the CPU (cumulative over the process)."
    if CUDA:
        if reset: torch.cuda.reset_peak_memory_stats()
        return torch.cuda.max_memory_allocated()/2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20


def trex_path(model, d):
    "The Executor's training path: trex.train.train (Trainer, method auto: QLoRA + Liger on CUDA, LoRA fp32 on the CPU)."
    cfg = TrainConfig(rank=16, alpha=32, dropout=0.0, target_modules=TARGETS, learning_rate=1e-4, scheduler='constant', warmup_ratio=0,
                      max_steps=WARM+STEPS, micro_batch=MB, max_length=SEQ, gradient_checkpointing=CUDA)
    peak(reset=True)
    out = Path(tempfile.mkdtemp(dir=TMP))   # a fresh folder each run: train() resumes from a checkpoint left in its folder
    r = train(model, d, out, cfg, save_every=10**6)
    log = [o for o in read_log(out) if 'loss' in o]
    t0, t1 = next(o['t'] for o in log if o['step'] == WARM), log[-1]['t']
    return dict(method=r['method'], tokens_per_s=round(MB*SEQ*STEPS/(t1-t0), 1), peak_gib=round(peak(), 2), loss=round(log[-1]['loss'], 3))


def baseline_path(model, d):
    "Plain transformers + peft (+ bitsandbytes nf4 on CUDA): the loop of ../shared/bench/qlora_baseline.py on the same rows."
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    import datasets
    tok = AutoTokenizer.from_pretrained(model)
    rows, _ = tokenize(datasets.load_from_disk(d)['train'], tok, SEQ)
    peak(reset=True)
    if CUDA:
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4', bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
        m = AutoModelForCausalLM.from_pretrained(model, quantization_config=q, dtype=torch.bfloat16, device_map={'': 0})
        m = prepare_model_for_kbit_training(m, use_gradient_checkpointing=True)
        m.gradient_checkpointing_enable(gradient_checkpointing_kwargs={'use_reentrant': False}); m.enable_input_require_grads()
    else: m = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    m = get_peft_model(m, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS, task_type='CAUSAL_LM'))
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-4)
    dev = 'cuda' if CUDA else 'cpu'
    m.train()
    for i in range(WARM+STEPS):
        if i == WARM:
            if CUDA: torch.cuda.synchronize()
            t = time.perf_counter()
        b = rows[[(i*MB + j) % len(rows) for j in range(MB)]]
        ids, lab = torch.tensor(b['input_ids'], device=dev), torch.tensor(b['labels'], device=dev)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=CUDA):
            loss = m(input_ids=ids, labels=lab).loss
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    if CUDA: torch.cuda.synchronize()
    dt = time.perf_counter() - t
    res = dict(method='qlora' if CUDA else 'lora', tokens_per_s=round(MB*SEQ*STEPS/dt, 1), peak_gib=round(peak(), 2), loss=round(loss.item(), 3))
    del m, opt; gc.collect()
    if CUDA: torch.cuda.empty_cache()
    return res


def child(path, model, d)->dict:
    "One timed run of `path` in a fresh process; its result."
    import subprocess
    p = subprocess.run([sys.executable, __file__, '--child', path, model, d], capture_output=True, text=True, env=dict(os.environ, TMP_DIR=str(TMP/path)))
    line = [l for l in p.stdout.splitlines() if l.startswith('CHILD ')]
    if p.returncode or not line: return dict(error=(p.stderr or p.stdout)[-400:])
    return json.loads(line[-1][6:])


def summary(runs:list)->dict:
    "Median tokens/s with its min-max spread, and the median peak memory, of a path's runs."
    import statistics
    ok = [r for r in runs if 'tokens_per_s' in r]
    if not ok: return dict(error=runs[0].get('error') if runs else 'no run', runs=runs)
    tps = [r['tokens_per_s'] for r in ok]
    med = statistics.median(tps)
    return dict(method=ok[0]['method'], tokens_per_s=round(med, 1), min=min(tps), max=max(tps), spread=round((max(tps)-min(tps))/med, 3),
                peak_gib=round(statistics.median(r['peak_gib'] for r in ok), 2), loss=ok[-1]['loss'], n=len(ok), failed=len(runs)-len(ok))


if __name__ == '__main__' and ARGS.child:
    path, model, d = ARGS.child
    TMP = Path(os.environ['TMP_DIR']); TMP.mkdir(parents=True, exist_ok=True)
    print('CHILD ' + json.dumps((trex_path if path == 'trex' else baseline_path)(model, d)), flush=True)
    sys.exit(0)

if __name__ == '__main__':
    res = dict(device=torch.cuda.get_device_name(0) if CUDA else 'cpu', model='qwen3-1.7b-shape' if CUDA else 'smollm2' if SMOL else 'tiny',
               seq=SEQ, micro_batch=MB, steps=STEPS, warmup=WARM, repeats=REPEATS, threads=torch.get_num_threads(),
               liger=bool(__import__('importlib').util.find_spec('liger_kernel')))
    model = model_folder(); d = data(MB*(WARM+STEPS))
    runs = dict(trex=[], baseline=[])
    for i in range(REPEATS):
        for name in (('trex', 'baseline') if i % 2 == 0 else ('baseline', 'trex')):
            runs[name].append(child(name, model, d))
            print(name, i, runs[name][-1], flush=True)
    res.update({k: summary(v) for k, v in runs.items()})
    t, b = res['trex'], res['baseline']
    if 'tokens_per_s' in t and 'tokens_per_s' in b:
        res['speedup'] = round(t['tokens_per_s']/b['tokens_per_s'], 2)
        res['memory_ratio'] = round(t['peak_gib']/b['peak_gib'], 2) if b['peak_gib'] else None
        if not CUDA: res['note'] = 'CPU peak memory is each child process\'s peak RSS (model, data and training)'
    print(f"{'path':9} {'tokens/s (median)':>18} {'min':>9} {'max':>9} {'spread':>7} {'peak GiB':>9}")
    for k in ('trex', 'baseline'):
        r = res[k]
        if 'tokens_per_s' in r: print(f"{k:9} {r['tokens_per_s']:>18,.1f} {r['min']:>9,.1f} {r['max']:>9,.1f} {r['spread']:>7.2f} {r['peak_gib']:>9.2f}")
        else: print(f"{k:9} failed: {r.get('error')}")
    if 'speedup' in res: print(f"trex / baseline: {res['speedup']}x tokens/s, {res['memory_ratio']}x peak memory ({REPEATS} runs each, {STEPS} timed steps)")
    (OUT/'train_throughput.json').write_text(json.dumps(res, indent=1))
    print('RESULT', json.dumps(res))
    shutil.rmtree(TMP, ignore_errors=True)
