#!/usr/bin/env python3
"""Reference forward pass of a llama GGUF in numpy (pip: gguf numpy), in f32 throughout.

Usage: `tools/reference_forward.py MODEL.gguf [STEPS]`. Greedy-decodes STEPS tokens (default 8)
for the ChatML prompt "What is the capital of France?" under the template's default system
prompt (token ids below, as mistral.rs's tokenizer produces them), printing the top five
logits at each step and then the ids. For SmolLM2-135M-Instruct.Q4_1.gguf:
[504, 3575, 282, 4649, 314, 7042, 30, 2] = "The capital of France is Paris.<|im_end|>", with
the first token a near tie (see docs/architecture.md, "Why the local model gets a system
prompt"). Compare with `cargo run --release --example logits_probe -- DIR FILE`.
"""
import numpy as np, gguf, sys
r = gguf.GGUFReader(sys.argv[1] if len(sys.argv) > 1 else "models/SmolLM2-135M-Instruct.Q4_1.gguf")
T = {}
for t in r.tensors:
    a = gguf.quants.dequantize(t.data, t.tensor_type)
    T[t.name] = np.asarray(a, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)]) if a.ndim==1 and len(t.shape)>1 else np.asarray(a, dtype=np.float32)

toks = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
D, H, KV, L = 576, 9, 3, int(r.fields["llama.block_count"].contents()); hd = D//H; eps=1e-5; base=100000.0
def rms(x, w): return x / np.sqrt((x*x).mean(-1, keepdims=True)+eps) * w
def rope(x, pos):  # x: (n, heads, hd); llama.cpp NORM rope: adjacent pairs
    inv = base ** (-np.arange(0, hd, 2)/hd)
    ang = pos[:,None]*inv[None,:]
    c, s = np.cos(ang)[:,None,:], np.sin(ang)[:,None,:]
    x0, x1 = x[...,0::2], x[...,1::2]
    out = np.empty_like(x); out[...,0::2] = x0*c - x1*s; out[...,1::2] = x0*s + x1*c
    return out
def run(toks):
    x = T["token_embd.weight"][toks]
    n = len(toks); pos = np.arange(n, dtype=np.float64)
    mask = np.triu(np.full((n,n), -np.inf), 1)
    for l in range(L):
        p = f"blk.{l}."
        h = rms(x, T[p+"attn_norm.weight"])
        q = (h @ T[p+"attn_q.weight"].T).reshape(n, H, hd)
        k = (h @ T[p+"attn_k.weight"].T).reshape(n, KV, hd)
        v = (h @ T[p+"attn_v.weight"].T).reshape(n, KV, hd)
        q, k = rope(q, pos), rope(k, pos)
        k = np.repeat(k, H//KV, axis=1); v = np.repeat(v, H//KV, axis=1)
        att = np.einsum("qhd,khd->hqk", q, k)/np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True)); att /= att.sum(-1, keepdims=True)
        o = np.einsum("hqk,khd->qhd", att, v).reshape(n, D)
        x = x + o @ T[p+"attn_output.weight"].T
        h = rms(x, T[p+"ffn_norm.weight"])
        g = h @ T[p+"ffn_gate.weight"].T; u = h @ T[p+"ffn_up.weight"].T
        x = x + ((g/(1+np.exp(-g)))*u) @ T[p+"ffn_down.weight"].T
    x = rms(x, T["output_norm.weight"])
    out = T.get("output.weight", T["token_embd.weight"])
    return (x[-1] @ out.T)
out = []
for i in range(int(sys.argv[2]) if len(sys.argv)>2 else 8):
    logits = run(toks + out)
    top=np.argsort(-logits)[:5]; print(" ".join(f"{i}:{logits[i]:.3f}" for i in top), flush=True)
    out.append(int(np.argmax(logits)))
print(out)
