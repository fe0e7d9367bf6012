#!/usr/bin/env python3
# MelodAI — licensed under the Apache License 2.0.
# Runs `melodai eval --model all` for several split seeds and prints mean ± standard deviation
# of the headline metrics per model as a Markdown table (the test split of one seed is small:
# a few hundred playlists for continuation, so single-seed figures are noisy).
# Usage: bench/eval_seeds.py BINARY DATA PROTOCOL SEEDS... (extra eval flags via EVAL_FLAGS)
import json
import os
import statistics
import subprocess
import sys
import tempfile

METRICS = ["ndcg@10", "map@10", "mrr", "recall@20", "r_precision", "coverage@10"]


def main():
    binary, data, protocol, *seeds = sys.argv[1:]
    extra = os.environ.get("EVAL_FLAGS", "").split()
    runs = {}
    fit = {}
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            out = os.path.join(folder, f"{seed}.json")
            subprocess.run([binary, "--log-level", "warn", "eval", "--data", data, "--model", "all",
                            "--protocol", protocol, "--seed", seed, "--json", out, *extra],
                           check=True, stdout=subprocess.DEVNULL)
            with open(out) as handle:
                report = json.load(handle)
            for model in report["models"]:
                runs.setdefault(model["model"], []).append(model["metrics"])
                fit.setdefault(model["model"], []).append(model["fit_seconds"])
    print(f"{protocol}, seeds {' '.join(seeds)}, mean ± sd")
    print("| model | " + " | ".join(METRICS) + " | fit s |")
    print("|---" * (len(METRICS) + 2) + "|")
    for model, metrics in runs.items():
        cells = []
        for name in METRICS:
            values = [m[name] for m in metrics]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.4f} ± {sd:.4f}")
        print(f"| {model} | " + " | ".join(cells) + f" | {statistics.mean(fit[model]):.1f} |")


if __name__ == "__main__":
    main()
