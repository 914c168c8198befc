# The report's own pages (rnnhmm.report): the evaluation tables of every model and the provenance of
# every figure, shown by `snakemake --report` next to the figures and the claims.  They only present
# finished tables, so they rerun when a figure or an evaluation summary changes.


rule report_pages:
    input:
        training=plan.eval_summary_file("{preset}", "training.csv"),
        metrics=plan.eval_summary_file("{preset}", "metrics.csv"),
        figures=lambda w: [plan.figure_file(w.preset, name, "png") for name in figures.FIGURES],
        code=stage_code("report-pages"),
    output:
        evaluation=report(
            plan.REPORT_PAGE.replace("{page}", "evaluation"),
            caption="../report/evaluation.rst",
            category=figures.TRAINING_CATEGORY,
            subcategory="Evaluation tables",
            labels={"page": "evaluation tables"},
        ),
        provenance=report(
            plan.REPORT_PAGE.replace("{page}", "provenance"),
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"page": "provenance of the figures"},
        ),
    log:
        "results/{preset}/logs/report_pages.log",
    conda:
        "../../envs/evaluate.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 1000 * attempt,
        runtime=lambda w, attempt: 10 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w, input: json.dumps({"preset": w.preset, "figures": list(input.figures)}),
    shell:
        "{params.cli} report-pages --params {params.p:q} --training {input.training} --metrics {input.metrics}"
        " --evaluation {output.evaluation} --provenance {output.provenance} > {log} 2>&1"
