"""Wall time and peak memory of the single-model analyses at the paper preset's parameters, on one
trained paper-size model (hidden 150, input dim 100), through the workflow itself.

    python benchmarks/analyses_paper_size.py --from-preset laptop --hmm chain2

copies ``results/<from-preset>/{hmm,models}`` of that model into a scratch preset ``paperanalyses``
(the paper preset's analysis parameters, a one-model grid), runs the named analyses and what they
need with Snakemake, and prints each rule's seconds and peak resident memory from Snakemake's
``benchmark:`` files (results/paperanalyses/benchmarks/analysis/...).
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile

import pandas as pd
import yaml

PRESET = "paperanalyses"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-preset", default="laptop", help="preset whose trained model is reused")
    ap.add_argument("--hmm", default="chain2")
    ap.add_argument("--analyses", nargs="+", default=["residency", "noise_sensitivity", "ablation"])
    ap.add_argument("--cores", default="2")
    args = ap.parse_args(argv)
    cfg = yaml.safe_load(open("config.yaml"))
    src_cfg = cfg["presets"][args.from_preset]
    ref = src_cfg["reference"]
    h, d, s = ref["hidden"], ref["dim"], ref["seed"]
    if (h, d) != (150, 100):
        sys.exit(f"preset {args.from_preset}'s reference model is h{h}_d{d}, not the paper size h150_d100")
    preset = copy.deepcopy(src_cfg)
    preset["grid"] = [{"hmms": [args.hmm], "hidden": [h], "dim": [d], "seeds": [s]}]
    preset["analysis"] = copy.deepcopy(cfg["presets"]["paper"]["analysis"])
    for sub in ("hmm", f"models/{args.hmm}/h{h}_d{d}/seed{s}"):
        src, dst = f"results/{args.from_preset}/{sub}", f"results/{PRESET}/{sub}"
        if not os.path.exists(src):
            sys.exit(f"{src} does not exist: run the {args.from_preset} preset's training first")
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, copy_function=shutil.copy2)  # keep mtimes: nothing is retrained
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump({"presets": {PRESET: preset}}, f)
    targets = [f"results/{PRESET}/analysis/{a}/{args.hmm}/h{h}_d{d}/seed{s}" for a in args.analyses]
    cmd = ["snakemake", "--cores", args.cores, "--configfile", f.name, "--config", f"preset={PRESET}",
           "--rerun-triggers", "mtime", "--", *targets]
    subprocess.run(cmd, check=True)
    rows = []
    for a in os.listdir(f"results/{PRESET}/benchmarks/analysis"):
        tsv = f"results/{PRESET}/benchmarks/analysis/{a}/{args.hmm}_h{h}_d{d}_s{s}.tsv"
        if os.path.exists(tsv):
            b = pd.read_csv(tsv, sep="\t").iloc[0]
            rows.append({"analysis": a, "wall_s": b["s"], "cpu_s": b.get("cpu_time", float("nan")),
                         "peak_rss_mb": b["max_rss"], "requested": a in args.analyses})
    print(pd.DataFrame(rows).sort_values("analysis").to_string(index=False, float_format="%.1f"))


if __name__ == "__main__":
    main()
