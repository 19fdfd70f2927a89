"""llama.cpp (through llama-cpp-python) on the cases of `tokenwise bench local`, for
scripts/bench-vs-llamacpp.sh. Prints one JSON object shaped like the bench's `--json`.

Usage: bench_llamacpp.py MODEL.gguf CASES.json RUNS TOKENS THREADS
CASES.json: {"system": "...", "cases": {"short": "...", ...}, "follow_up": "..."}
Greedy (temperature 0, top_k 1), the model's own chat template, the same system prompt.
The KV cache is reset before every run so no run reuses an earlier one's prompt, except the
cached second turn of the multi-turn case, which is what it measures.
"""
import json
import resource
import statistics
import sys
import time

from llama_cpp import Llama


def generate(llm, messages, tokens, reset=True):
    if reset:
        llm.reset()
    started = time.perf_counter()
    first = None
    pieces = []
    for chunk in llm.create_chat_completion(
        messages=messages, max_tokens=tokens, temperature=0.0, top_k=1, stream=True
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            if first is None:
                first = time.perf_counter()
            pieces.append(text)
    ended = time.perf_counter()
    first = first or ended
    tokens_out = len(pieces)
    tokens_in = llm.n_tokens - tokens_out
    ttft_ms = (first - started) * 1000
    decode_s = ended - first
    return {
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "ttft_ms": ttft_ms,
        "total_ms": (ended - started) * 1000,
        "prefill_tokens_per_second": tokens_in / max(ttft_ms / 1000, 1e-9),
        "decode_tokens_per_second": (tokens_out - 1) / decode_s if tokens_out > 1 and decode_s > 0 else 0.0,
    }, "".join(pieces)


def main():
    model, cases_file, runs, tokens, threads = sys.argv[1:6]
    runs, tokens, threads = int(runs), int(tokens), int(threads)
    spec = json.load(open(cases_file))
    started = time.perf_counter()
    llm = Llama(model_path=model, n_ctx=8192, n_threads=threads, n_threads_batch=threads,
                n_batch=512, verbose=False)
    load_seconds = time.perf_counter() - started
    system = [{"role": "system", "content": spec["system"]}]
    report = {"engine": "llama.cpp (llama-cpp-python)", "load_seconds": load_seconds, "cases": []}
    for case, prompt in spec["cases"].items():
        messages = system + [{"role": "user", "content": prompt}]
        samples = [generate(llm, messages, tokens)[0] for _ in range(max(runs, 1))]
        row = {"case": case, "tokens_in": samples[0]["tokens_in"]}
        for key in ("tokens_out", "ttft_ms", "total_ms", "prefill_tokens_per_second",
                    "decode_tokens_per_second"):
            row[key] = statistics.median(s[key] for s in samples)
        report["cases"].append(row)
    if spec.get("follow_up"):
        first = system + [{"role": "user", "content": spec["cases"].get("short", "Hi")}]
        _, answer = generate(llm, first, tokens)
        turn_2 = first + [{"role": "assistant", "content": answer},
                          {"role": "user", "content": spec["follow_up"]}]
        cached, _ = generate(llm, turn_2, tokens, reset=False)
        uncached, _ = generate(llm, turn_2, tokens, reset=True)
        report["multi_turn"] = {
            "turn_2_tokens_in": uncached["tokens_in"],
            "turn_2_ttft_ms_cached": cached["ttft_ms"],
            "turn_2_ttft_ms_uncached": uncached["ttft_ms"],
        }
    report["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
