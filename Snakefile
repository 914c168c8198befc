# rnnhmm: HMM generation -> RNN training -> evaluation -> dynamical analysis -> figures.
# Thin on purpose: rules live in workflow/rules/, the code they call in src/rnnhmm/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# Wildcards match only what the validated config defines (names are letters and digits, checked by
# the schema), so no target path can carry shell text, slashes or dot-dot into a rule, or out of
# results and figures; an unknown preset or HMM in a target is "no rule to produce".
wildcard_constraints:
    preset="|".join(ALL_PRESETS),
    hmm="|".join(config["hmms"]),
    hidden="[1-9][0-9]*",
    dim="[1-9][0-9]*",
    seed="[0-9]+",


include: "workflow/rules/hmm.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/controls.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(PRESET),
