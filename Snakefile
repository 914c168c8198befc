# rnnhmm: HMM generation -> RNN training -> evaluation -> dynamical analysis -> figures.
# Thin on purpose: rules live in workflow/rules/, the code they call in src/rnnhmm/.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/hmm.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/analyze.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        all_targets(PRESET),
    default_target: True
