"""The side-by-side table of scripts/bench-vs-llamacpp.sh: llama.cpp against one or more
`tokenwise bench local --json` reports, with ratios (Tokenwise / llama.cpp for speeds,
llama.cpp / Tokenwise for times, so above 1 always means Tokenwise is ahead).

Usage: bench_table.py LLAMACPP.json TOKENWISE.json [TOKENWISE2.json ...]
"""
import datetime
import json
import platform
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def by_case(report):
    return {row["case"]: row for row in report["cases"]}


def main():
    llama = load(sys.argv[1])
    reports = [load(p) for p in sys.argv[2:]]
    print(f"date: {datetime.date.today()}  machine: {reports[0]['cpu']}  ({platform.machine()})")
    print(f"llama.cpp load {llama['load_seconds']:.2f} s, peak RSS {llama['peak_rss_mib']:.0f} MiB"
          " (includes the Python interpreter)")
    for report in reports:
        print(f"tokenwise weights: {report['weights']}; load {report['load_seconds']:.2f} s, "
              f"peak RSS {report['peak_rss_mib']:.0f} MiB")
    print()
    header = f"| case | measure | llama.cpp |"
    rule = "|---|---|---:|"
    for report in reports:
        header += f" Tokenwise ({short(report)}) | ratio |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    ll = by_case(llama)
    measures = [
        ("ttft_ms", "time to first token (ms)", False),
        ("prefill_tokens_per_second", "prefill (tok/s)", True),
        ("decode_tokens_per_second", "decode (tok/s)", True),
    ]
    for case, row in ll.items():
        for key, label, higher_is_better in measures:
            line = f"| {case} ({row['tokens_in']} in) | {label} | {row[key]:.1f} |"
            for report in reports:
                mine = by_case(report).get(case)
                if mine is None:
                    line += " – | – |"
                    continue
                ratio = mine[key] / row[key] if higher_is_better else row[key] / max(mine[key], 1e-9)
                line += f" {mine[key]:.1f} | {ratio:.2f}× |"
            print(line)
    if "multi_turn" in llama:
        for key, label in (("turn_2_ttft_ms_cached", "turn 2 ttft, cache on (ms)"),
                           ("turn_2_ttft_ms_uncached", "turn 2 ttft, cache off (ms)")):
            line = f"| multi-turn | {label} | {llama['multi_turn'][key]:.0f} |"
            for report in reports:
                mine = report.get("multi_turn")
                if not mine:
                    line += " – | – |"
                    continue
                line += f" {mine[key]:.0f} | {llama['multi_turn'][key] / max(mine[key], 1e-9):.2f}× |"
            print(line)
    line = f"| – | peak RSS (MiB) | {llama['peak_rss_mib']:.0f} |"
    for report in reports:
        line += f" {report['peak_rss_mib']:.0f} | {llama['peak_rss_mib'] / report['peak_rss_mib']:.2f}× |"
    print(line)


def short(report):
    return "Q8_0 copy" if "Q8_0" in report["weights"] else "as downloaded"


if __name__ == "__main__":
    main()
