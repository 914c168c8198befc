# Emission statistics of each trained model against its HMM (SCIENCE.md §3).

EVAL_FILES = ["eval_transmat.csv", "eval_freq_vol.csv", "eval_training.csv"]


rule evaluate:
    input:
        hmm=plan.HMM_FILE,
        model=plan.MODEL_DIR + "/model.pt",
        history=plan.MODEL_DIR + "/history.csv",
        code=src(*CORE_CODE, "hmm.py", "model.py", "evaluate.py"),
    output:
        [plan.EVAL_DIR + "/" + f for f in EVAL_FILES],
    params:
        p=lambda w: json.dumps(
            {
                "base_seed": config["base_seed"],
                "model": spec_of(w).fields(),
                "n_sequences": preset_cfg(w)["evaluate"]["n_sequences"],
                "sigma": preset_cfg(w)["train"]["sigma"],
            }
        ),
        out_dir=plan.EVAL_DIR,
    log:
        "results/{preset}/logs/evaluate/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/evaluate.yaml"
    shell:
        RNNHMM + " evaluate --hmm-file {input.hmm} --model {input.model} --params {params.p:q}"
        " --out-dir {params.out_dir} --threads {threads} > {log} 2>&1"
