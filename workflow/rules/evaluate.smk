# Emission statistics of each trained model against its HMM (docs/method.md §3), the loss floor of each HMM
# (rnnhmm.floor), then one aggregation job per preset that writes the grid tables the figures read
# (results/{preset}/evaluate/summary/).

EVAL_FILES = [plan.eval_file(t) for t in plan.EVAL_TABLES]


rule evaluate:
    input:
        hmm=lambda w: plan.hmm_file(w.preset, w.hmm),
        model=plan.MODEL_PT,
        history=plan.HISTORY_CSV,
        code=stage_code("evaluate"),
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
        p=lambda w: json.dumps(slices.evaluate_params(config, w.preset, spec_of(w))),
        out_dir=plan.EVAL_DIR,
    shell:
        "{params.cli} evaluate --hmm-file {input.hmm} --model-file {input.model} --params {params.p:q}"
        " --out-dir {params.out_dir} --threads {threads} > {log} 2>&1"


rule loss_floor:
    input:
        hmm=plan.HMM_FILE,
        code=stage_code("floor"),
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
        p=lambda w: json.dumps(slices.floor_params(config, w.preset)),
    shell:
        "{params.cli} floor --hmm-file {input.hmm} --params {params.p:q} --out {output} --threads {threads} > {log} 2>&1"


rule evaluate_summary:
    input:
        evals=lambda w: eval_files(w.preset),
        floors=lambda w: [plan.floor_file(w.preset, h) for h in plan.hmms_in(preset_cfg(w))],
        histories=lambda w: [
            os.path.join(plan.model_dir(w.preset, m), "history.csv") for m in plan.expand_grid(preset_cfg(w))
        ],
        code=stage_code("evaluate-summary"),
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
        p=lambda w: json.dumps(slices.summary_params(config, w.preset)),
        out_dir=os.path.dirname(plan.EVAL_SUMMARY_FILE),
    shell:
        "{params.cli} evaluate-summary --params {params.p:q} --out-dir {params.out_dir} > {log} 2>&1"
