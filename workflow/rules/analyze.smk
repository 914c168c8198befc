# Dynamical analyses of trained models (docs/method.md §4).  One generic rule runs any analysis
# registered in src/rnnhmm/dynamics (a module defining ANALYSIS = Analysis(...)); its outputs are
# the folder results/{preset}/analysis/{analysis}/{hmm}/h{hidden}_d{dim}/seed{seed}/.


rule analyze:
    input:
        unpack(analysis_inputs),
    output:
        directory(plan.ANALYSIS_DIR),
    log:
        "results/{preset}/logs/analysis/{analysis}/{hmm}_h{hidden}_d{dim}_s{seed}.log",
    benchmark:
        "results/{preset}/benchmarks/analysis/{analysis}/{hmm}_h{hidden}_d{dim}_s{seed}.tsv"
    wildcard_constraints:
        analysis="|".join(ANALYSES),
    conda:
        "../../envs/analyze.yaml"
    threads: lambda w: ANALYSES[w.analysis].threads
    resources:
        mem_mb=lambda w, attempt: ANALYSES[w.analysis].mem_mb * attempt,
        runtime=lambda w, attempt: ANALYSES[w.analysis].runtime_min * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.analysis_params(config, w.preset, spec_of(w), w.analysis)),
    shell:
        "{params.cli} analyze {wildcards.analysis} --params {params.p:q} --threads {threads} > {log} 2>&1"
