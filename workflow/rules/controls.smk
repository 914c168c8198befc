# Control networks of the claims check (docs/claims.md, "Controls"; rnnhmm.controls): for each
# reference model of a preset, its untrained and its weight-shuffled network, written under the
# control preset results/<preset>-<control>/ in a training's files, so the evaluation and the
# analyses run on them unchanged.


rule control_model:
    input:
        trained=lambda w: plan.MODEL_PT.format(preset=plan.split_preset(w.preset)[0], **spec_of(w).fields()),
        code=stage_code("control"),
    output:
        model=plan.MODEL_PT,
        history=plan.HISTORY_CSV,
        meta=plan.META_JSON,
        checkpoints=directory(plan.CHECKPOINTS_DIR),
    log:
        "results/{preset}/logs/control/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    wildcard_constraints:
        preset="|".join(CONTROL_PRESETS),
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 1000 * attempt,
        runtime=lambda w, attempt: 5 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.control_params(config, w.preset, spec_of(w))),
    shell:
        "{params.cli} control --trained {input.trained} --params {params.p:q}"
        " --out-dir $(dirname {output.model:q}) > {log} 2>&1"
