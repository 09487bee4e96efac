"""GRPO throughput: completions per second of a trex GRPO run (trex.train with objective='grpo', TRL's GRPOTrainer), against
plain sampling of the same number of completions with `model.generate` in the same process.

Same model, same prompts (mini_order's training rows, formatted by the recipe), same group size, completion length and
temperature. Three timed parts, one after the other in this process:
- `generate`: the LoRA model samples num_generations completions per prompt, micro_batch sequences a batch (no training);
- `grpo`: trex's GRPO run (sampling, the task's rewards, the policy update), from its train_log.jsonl timestamps;
- `sft`: an SFT run of the same steps on the same rows, for the cost of a training token.
Prints completions/s and generated tokens/s of `generate` and `grpo`, their ratio (the share of GRPO's time that is
sampling), and GEN_WEIGHT, the cost of a sampled token in training tokens (SFT tokens/s over sampled tokens/s), which
trex.objectives.cost uses for the session's projected cost. Writes $OUT/grpo_throughput.json.

On a CPU the default is the tiny random Llama (trex.models.tiny_model): it times the machinery, not a real model. MODEL=smollm2
uses SmolLM2-135M-Instruct (CPU or CUDA). On CUDA the default is SmolLM2.
"""
import argparse
if __name__ == '__main__':   # --help prints the purpose and the settings before anything heavy is imported
    _ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                  epilog='Settings (environment variables): MODEL=tiny|smollm2; STEPS (GRPO/SFT steps, default 6); '
                                         'G (num_generations, 4); LEN (max_completion_length, 32); MB (micro_batch, 8); '
                                         'OUT=folder for grpo_throughput.json (default: a temp folder).')
    ARGS = _ap.parse_args()
import json, os, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import torch
from ftbench import task
from trex.models import tiny_model
from trex.recipe import build_data
from trex.schema import TrainConfig
from trex.train import load_model, lora_model, read_log, train

CUDA = torch.cuda.is_available()
MODEL = os.environ.get('MODEL') or ('smollm2' if CUDA else 'tiny')
STEPS, G, LEN, MB = (int(os.environ.get(k, d)) for k,d in (('STEPS', 6), ('G', 4), ('LEN', 32), ('MB', 8)))
OUT = Path(os.environ.get('OUT') or tempfile.mkdtemp()); OUT.mkdir(parents=True, exist_ok=True)
TMP = Path(tempfile.mkdtemp())

def model_folder()->str:
    if MODEL == 'smollm2':
        from trex.models import smollm2
        return str(smollm2())
    return str(tiny_model())

def sample(model, data, cfg)->dict:
    "Plain sampling: the same prompts, G completions each, MB sequences a batch, LEN new tokens at most."
    import datasets, transformers
    tok = transformers.AutoTokenizer.from_pretrained(model, padding_side='left')
    if tok.pad_token is None: tok.pad_token = tok.eos_token
    m = lora_model(load_model(model, 'lora'), cfg).eval()
    rows = datasets.load_from_disk(data)['train']
    n_prompts = STEPS*MB//G
    prompts = [tok.apply_chat_template(rows[i]['prompt'], add_generation_prompt=True, tokenize=False) for i in range(n_prompts)]
    dev, done, toks, t0 = next(m.parameters()).device, 0, 0, time.perf_counter()
    with torch.inference_mode():
        for b in range(0, n_prompts, MB//G):
            enc = tok(prompts[b:b + MB//G], return_tensors='pt', padding=True, add_special_tokens=False).to(dev)
            g = m.generate(**enc, do_sample=True, temperature=cfg.temperature, max_new_tokens=LEN, num_return_sequences=G,
                           pad_token_id=tok.pad_token_id)
            new = g[:, enc['input_ids'].shape[1]:]
            toks += int((new != tok.pad_token_id).sum()); done += new.shape[0]
    s = time.perf_counter() - t0
    return dict(completions=done, seconds=round(s, 3), completions_per_s=done/s, tokens_per_s=toks/s, mean_length=toks/done)

def timed(log)->float:
    "Seconds from the first to the last training step of a train_log.jsonl (model loading and setup left out)."
    ts = [r['t'] for r in log if 'loss' in r or r.get('event') == 'begin']
    return ts[-1] - ts[0]

def main():
    model, mo = model_folder(), task('mini_order')
    data, _, _ = build_data([{'op': 'source', 'split': 'train'}, {'op': 'sample', 'n': 4*STEPS*MB}], TMP/'data', mo)
    base = dict(rank=8, learning_rate=1e-4, micro_batch=MB, max_steps=STEPS, max_length=256, warmup_ratio=0.0, scheduler='constant')
    gcfg = TrainConfig(**base, objective='grpo', num_generations=G, max_completion_length=LEN, temperature=1.0)
    gen = sample(model, str(data), gcfg)
    r = train(model, data, TMP/'grpo', gcfg)
    log = read_log(TMP/'grpo')
    lens = [o['completions/mean_length'] for o in log if 'completions/mean_length' in o] or [LEN]
    s = timed(log); comp = r['steps']*MB
    grpo = dict(status=r['status'], steps=r['steps'], completions=comp, seconds=round(s, 3), completions_per_s=comp/s,
                tokens_per_s=comp*sum(lens)/len(lens)/s, mean_length=sum(lens)/len(lens), reward_curve=r['reward_curve'])
    rs = train(model, data, TMP/'sft', TrainConfig(**base))
    sft_tps = rs['tokens']/timed(read_log(TMP/'sft'))
    res = dict(device='cuda' if CUDA else 'cpu', model=MODEL, threads=torch.get_num_threads(), steps=STEPS, num_generations=G,
               max_completion_length=LEN, micro_batch=MB, generate=gen, grpo=grpo, sft_tokens_per_s=sft_tps,
               ratio_completions_per_s=grpo['completions_per_s']/gen['completions_per_s'], gen_weight=sft_tps/gen['tokens_per_s'])
    (OUT/'grpo_throughput.json').write_text(json.dumps(res, indent=1))
    print(f"{res['device']} {MODEL} ({res['threads']} threads): {G} completions per prompt, <= {LEN} tokens, {MB} sequences a batch, {STEPS} steps")
    print(f"  generate: {gen['completions_per_s']:8.2f} completions/s {gen['tokens_per_s']:9.1f} tokens/s (mean length {gen['mean_length']:.1f})")
    print(f"  grpo    : {grpo['completions_per_s']:8.2f} completions/s {grpo['tokens_per_s']:9.1f} tokens/s (mean length {grpo['mean_length']:.1f}, status {grpo['status']})")
    print(f"  grpo / generate: {res['ratio_completions_per_s']:.2f}x completions/s")
    print(f"  sft: {sft_tps:.1f} training tokens/s -> GEN_WEIGHT (a sampled token in training tokens) = {res['gen_weight']:.1f}")
    print(f"  wrote {OUT/'grpo_throughput.json'}")

if __name__ == '__main__': main()
