"""Reverse-engineering analyses, one module per analysis family (SCIENCE.md §4).

Shared machinery:
  registry     Analysis / AnalysisContext and discovery of every module defining ANALYSIS
  simulate     the one batched simulator (states, pre-activations, logits, interventions, Jacobians)
  pca          sign-fixed PCA
  switching    switch times, dwells, TR, p_sw of the dominant output
  spectra      batched Jacobian spectra: unstable counts, critical pairs (Möbius map)

Analyses (each defines ANALYSIS):
  state_space  global dynamics: PCA, trajectories with and without input, empirical endpoint (§4.1)
"""
