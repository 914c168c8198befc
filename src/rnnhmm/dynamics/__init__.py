"""Reverse-engineering analyses, one module per analysis family (SCIENCE.md §4).

  simulate     the one batched simulator (states, pre-activations, logits, interventions, Jacobians)
  pca          sign-fixed PCA
  state_space  global dynamics: PCA, trajectories with and without input, empirical endpoint (§4.1)
"""
