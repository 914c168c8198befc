# Dynamical analyses of trained models (SCIENCE.md §4).  One generic rule runs any analysis
# registered in src/rnnhmm/dynamics (a module defining ANALYSIS = Analysis(...)); its outputs are
# the folder results/{preset}/analysis/{analysis}/{hmm}/h{hidden}_d{dim}/seed{seed}/.

from rnnhmm.dynamics import registry  # noqa: E402

ANALYSES = registry.analyses()


def analysis_inputs(w):
    """model.pt, what the analysis declares in ``needs``, the outputs of analyses in ``after``, its code."""
    a = ANALYSES[w.analysis]
    spec = spec_of(w)
    mdir = plan.model_dir(w.preset, spec)
    extra = {
        "checkpoints": f"{mdir}/checkpoints",
        "history": f"{mdir}/history.csv",
        "hmm": plan.hmm_file(w.preset, spec.hmm),
    }
    inputs = {"model": f"{mdir}/model.pt"}
    inputs.update({n: extra[n] for n in a.needs})
    inputs.update({f"after_{n}": plan.analysis_dir(w.preset, n, spec) for n in a.after})
    module_file = ANALYSES[w.analysis].run.__module__.split(".", 1)[1].replace(".", "/") + ".py"
    inputs["code"] = src(*CORE_CODE, module_file)
    return inputs


rule analyze:
    input:
        unpack(analysis_inputs),
    output:
        directory(plan.ANALYSIS_DIR),
    params:
        p=lambda w: json.dumps(
            {
                "preset": w.preset,
                "base_seed": config["base_seed"],
                "model": spec_of(w).fields(),
                "params": preset_cfg(w)["analysis"].get(w.analysis, {}),
            }
        ),
    log:
        "results/{preset}/logs/analysis/{analysis}/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    wildcard_constraints:
        analysis="|".join(ANALYSES),
    threads: lambda w: ANALYSES[w.analysis].threads
    resources:
        mem_mb=lambda w, attempt: ANALYSES[w.analysis].mem_mb * attempt,
        runtime=lambda w, attempt: ANALYSES[w.analysis].runtime_min * attempt,
    conda:
        "../../envs/analyze.yaml"
    shell:
        RNNHMM + " analyze {wildcards.analysis} --params {params.p:q} --threads {threads} > {log} 2>&1"
