"""rnnhmm: train noise-driven ReLU RNNs to emulate HMMs and reverse-engineer them.

Modules (one idea each):
  rng       named, seeded random streams (no global RNG)
  hmm       HMM families, validation, exact statistics, vectorised sampling
  model     the noise-driven ReLU RNN and its straight-through Gumbel readout
  sinkhorn  the debiased Sinkhorn divergence used as the training loss
  train     the training loop: checkpoints, best-weights copy, resume
  evaluate  emission statistics of RNN and HMM sequences
  dynamics  the reverse-engineering analyses (one module per analysis family)
  figures   one module per paper figure, reading only analysis tables
  io        every on-disk format, atomic writes and provenance sidecars
  plan      the model grid of a preset and the paths every stage writes
  config    validation of the workflow configuration
  cli       the `rnnhmm <stage>` commands the workflow rules call
"""

__version__ = "0.1.0"
