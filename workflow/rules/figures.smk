# Figures: one generic rule renders any registered figure from the tables its module needs
# (src/rnnhmm/figures/__init__.py: FIGURES).  Restyling a figure reruns only that figure.


rule figure:
    input:
        tables=lambda w: figures.needs(w.figure, w.preset, preset_cfg(w)),
        code=lambda w: stage_code("figure", f"figures/{w.figure}.py"),
    output:
        pdf="figures/{preset}/{figure}.pdf",
        png=report(
            "figures/{preset}/{figure}.png",
            caption="../report/figure.rst",
            category=lambda w: figures.report_category(w.figure),
            subcategory=lambda w: figures.report_subcategory(w.figure),
            labels={"figure": "{figure}"},
        ),
    log:
        "results/{preset}/logs/figures/{figure}.log",
    wildcard_constraints:
        figure="|".join(figures.FIGURES),
    conda:
        "../../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=lambda w, attempt: 2000 * attempt,
        runtime=lambda w, attempt: 15 * attempt,
    params:
        cli=RNNHMM,
        p=lambda w: json.dumps(slices.figure_params(config, w.preset)),
        caption=lambda w: figures.caption(w.figure),
    shell:
        "{params.cli} figure {wildcards.figure} --params {params.p:q}"
        " --out figures/{wildcards.preset}/{wildcards.figure} > {log} 2>&1"
