# RNN training, one job per (hmm, hidden, dim, seed) (docs/method.md §1).

TRAIN_MEM_MB = {"smoke": 1000, "laptop": 3000, "paper": 6000}
TRAIN_RUNTIME_MIN = {"smoke": 10, "laptop": 120, "paper": 1440}


rule train:
    input:
        hmm=plan.HMM_FILE,
        code=stage_code("train"),
    output:
        model=plan.MODEL_PT,
        history=plan.HISTORY_CSV,
        meta=plan.META_JSON,
        checkpoints=directory(plan.CHECKPOINTS_DIR),
    log:
        "results/{preset}/logs/train/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    benchmark:
        "results/{preset}/benchmarks/train/{hmm}_h{hidden}_d{dim}_s{seed}.tsv"
    wildcard_constraints:
        preset="|".join(config["presets"]),  # a control preset's networks come from rule control_model
    # the longest trainings first, so the run's length does not depend on the order jobs are picked
    priority: lambda w: train_priority(w.preset, spec_of(w))
    conda:
        TRAIN_ENV
    threads: lambda w: 1 if w.preset in ("smoke", "laptop") else 2
    resources:
        mem_mb=lambda w, attempt: TRAIN_MEM_MB.get(w.preset, 6000) * attempt,
        runtime=lambda w, attempt: TRAIN_RUNTIME_MIN.get(w.preset, 1440) * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.train_params(config, w.preset, spec_of(w))),
    shell:
        "{params.cli} train --hmm-file {input.hmm} --params {params.p:q}"
        " --out-dir $(dirname {output.model:q}) --threads {threads} > {log} 2>&1"
