# Dynamical analyses of trained models (SCIENCE.md §4), one rule per analysis.


def analysis_params(name):
    """The rule params of analysis ``name``: model key and the preset's parameters of that analysis."""

    def _params(w):
        return json.dumps(
            {
                "base_seed": config["base_seed"],
                "model": spec_of(w).fields(),
                "params": preset_cfg(w)["analysis"].get(name, {}),
            }
        )

    return _params


STATE_SPACE_FILES = ["pca_global.csv", "pca_loadings.csv", "traj_noinput.parquet", "traj_input.parquet", "endpoint.csv"]


rule state_space:
    input:
        model=plan.MODEL_DIR + "/model.pt",
        code=src(*CORE_CODE, "model.py", "dynamics/simulate.py", "dynamics/pca.py", "dynamics/state_space.py"),
    output:
        [as_pattern(plan.ANALYSIS_DIR, analysis="state_space") + "/" + f for f in STATE_SPACE_FILES],
    params:
        p=analysis_params("state_space"),
        out_dir=as_pattern(plan.ANALYSIS_DIR, analysis="state_space"),
    log:
        "results/{preset}/logs/analysis/state_space/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/analyze.yaml"
    shell:
        RNNHMM + " analyze state_space --model {input.model} --params {params.p:q}"
        " --out-dir {params.out_dir} --threads {threads} > {log} 2>&1"
