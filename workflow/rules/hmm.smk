# HMM generation: matrices and train/val/test sequences (docs/method.md §2, §1.2).


rule hmm:
    input:
        code=stage_code("hmm"),
    output:
        plan.HMM_FILE,
    log:
        "results/{preset}/logs/hmm/{hmm}.log",
    wildcard_constraints:
        preset="|".join(config["presets"]),  # control presets read their base preset's (plan.hmm_file)
    priority: lambda w: hmm_priority(w.preset, w.hmm)
    conda:
        "../../envs/hmm.yaml"
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 10 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.hmm_params(config, w.preset, w.hmm)),
    shell:
        "{params.cli} hmm --params {params.p:q} --out {output} > {log} 2>&1"
