# The claims check (docs/claims.md): the paper's claims C1-C7 measured on the reference models from
# the evaluation and analysis tables they already have; a table, shown in the report.


rule claims:
    input:
        tables=lambda w: claims.needs(w.preset, preset_cfg(w), slices.claims_params(config, w.preset)["hmms"]),
        code=stage_code("claims"),
    output:
        csv=report(
            plan.CLAIMS_FILE.replace("{ext}", "csv"),
            caption="../report/claims.rst",
            category="Claims",
            labels={"table": "claims (CSV)"},
        ),
        html=report(
            plan.CLAIMS_FILE.replace("{ext}", "html"),
            caption="../report/claims.rst",
            category="Claims",
            labels={"table": "claims"},
        ),
    log:
        "results/{preset}/logs/claims.log",
    conda:
        "../../envs/analyze.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.claims_params(config, w.preset)),
    shell:
        "{params.cli} claims --params {params.p:q} --out {output.csv} --html {output.html} > {log} 2>&1"
