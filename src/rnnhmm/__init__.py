"""rnnhmm: train noise-driven ReLU RNNs to emulate HMMs and reverse-engineer them.

Modules (one idea each):
  rng       named, seeded random streams (no global RNG)
  hmm       HMM families, validation, exact statistics, vectorised sampling
  model     the noise-driven ReLU RNN and its straight-through Gumbel readout
  sinkhorn  the debiased Sinkhorn divergence used as the training loss
  train     the training loop: checkpoints, best-weights copy, resume
  floor     the loss floor: the loss of a perfect emulator at the training batch size
  evaluate  emission statistics of RNN and HMM sequences
  controls  the control networks of the claims check (untrained, weight-shuffled)
  dynamics  the reverse-engineering analyses (one module per analysis family)
  figures   one module per paper figure, reading only analysis tables
  claims    the claims check: each claim measured on the models and on their controls
  report    the report's evaluation and provenance pages
  io        every on-disk format, atomic writes and provenance sidecars
  errors    the base class of every error that is the user's to fix (one line, exit code 2)
  plan      the model grid of a preset and the paths every stage writes
  config    validation of the workflow configuration and the slice of it each stage reads
  codedeps  a module's import closure: the code inputs of a rule's jobs
  stages    one module per `rnnhmm <stage>`: its options and the stage itself
  cli       the dispatcher of `rnnhmm <stage>` (imports only the stage it runs)
  byhand    a stage's slice and paths built from config.yaml (`--preset`, `--model`)
  progress  the progress bar of a stage run at a terminal
"""

__version__ = "0.1.0"
