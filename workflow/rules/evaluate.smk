# Emission statistics of each trained model against its HMM (docs/method.md §3), the loss floor of each HMM
# (rnnhmm.floor), then one aggregation job per preset that writes the grid tables the figures read
# (results/{preset}/evaluate/summary/).

EVAL_FILES = [f"eval_{t}.csv" for t in ("metrics", "distance", "transmat", "freq_vol", "training")]


rule evaluate:
    input:
        hmm=lambda w: plan.hmm_file(w.preset, w.hmm),
        model=plan.MODEL_PT,
        history=plan.HISTORY_CSV,
        code=src(*CORE_CODE, "hmm.py", "model.py", "sinkhorn.py", "evaluate.py"),
    output:
        [os.path.join(plan.EVAL_DIR, f) for f in EVAL_FILES],
    log:
        "results/{preset}/logs/evaluate/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 30 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(
            {
                "base_seed": config["base_seed"],
                "model": spec_of(w).fields(),
                "n_sequences": preset_cfg(w)["evaluate"]["n_sequences"],
                "grid_seq_len": preset_cfg(w)["evaluate"].get("grid_seq_len", 100),
                "match": {
                    "eps": preset_cfg(w)["evaluate"].get("eps", 0.1),
                    "max_iter": preset_cfg(w)["evaluate"].get("max_iter", 1000),
                    "tol": preset_cfg(w)["evaluate"].get("tol", 1.0e-3),
                },
                "sigma": preset_cfg(w)["train"]["sigma"],
                "tau": preset_cfg(w)["train"]["tau"],
                "blur": preset_cfg(w)["train"]["blur"],
                "scaling": preset_cfg(w)["train"]["scaling"],
            }
        ),
        out_dir=plan.EVAL_DIR,
    shell:
        "{params.cli} evaluate --hmm-file {input.hmm} --model {input.model} --params {params.p:q}"
        " --out-dir {params.out_dir} --threads {threads} > {log} 2>&1"


rule loss_floor:
    input:
        hmm=plan.HMM_FILE,
        code=src(*CORE_CODE, "floor.py"),
    output:
        plan.FLOOR_FILE,
    log:
        "results/{preset}/logs/evaluate/{hmm}_floor.log",
    wildcard_constraints:
        preset="|".join(config["presets"]),
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(
            {
                "base_seed": config["base_seed"],
                "train": {
                    k: preset_cfg(w)["train"][k]
                    for k in ("batch_size", "blur", "scaling", "sinkhorn_backend")
                },
            }
        ),
    shell:
        "{params.cli} floor --hmm-file {input.hmm} --params {params.p:q} --out {output} --threads {threads} > {log} 2>&1"


rule evaluate_summary:
    input:
        evals=lambda w: eval_files(w.preset),
        floors=lambda w: [plan.floor_file(w.preset, h) for h in plan.hmms_in(preset_cfg(w))],
        histories=lambda w: [
            os.path.join(plan.model_dir(w.preset, m), "history.csv") for m in plan.expand_grid(preset_cfg(w))
        ],
        code=src(*CORE_CODE, "evaluate.py"),
    output:
        [plan.EVAL_SUMMARY_FILE.replace("{table}", t) for t in plan.EVAL_SUMMARY_TABLES],
    log:
        "results/{preset}/logs/evaluate/summary.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(
            {"preset": w.preset, "models": [m.fields() for m in plan.expand_grid(preset_cfg(w))]}
        ),
        out_dir=os.path.dirname(plan.EVAL_SUMMARY_FILE),
    shell:
        "{params.cli} evaluate-summary --params {params.p:q} --out-dir {params.out_dir} > {log} 2>&1"
