"""Reverse-engineering analyses, one module per analysis family (docs/method.md §4).

Shared machinery:
  registry     Analysis / AnalysisContext and loading one analysis by name (the workflow reads the
               modules' DEFAULTS and ANALYSIS declarations without importing: rnnhmm.plan.analyses)
  simulate     the one batched simulator (states, pre-activations, logits, interventions, Jacobians)
  pca          sign-fixed PCA
  switching    switch times, dwells, TR, p_sw of the dominant output
  spectra      batched Jacobian spectra: unstable counts, critical pairs (Möbius map), critical pairs at switches
  regions      the rollout core: first passage, residency RT/SC, p_max, region labels and their summary (§4.5)
  locate       cluster and transition points before a switch (§4.6, D10)
  groups       the kick groups file kick_neurons writes and the groups found in it
(the simulator also holds the noisy run from h_0 = 0, the contraction rate, the §4.10 gains and the
γ-mixing of noise; pca also loads the PCA state_space writes).  Analyses import this machinery, never
another analysis, so editing one analysis reruns that analysis (and those declared ``after`` it) only.

Analyses (each declares DEFAULTS and ANALYSIS at its top level, as literals but for ``run``):
  state_space  global dynamics: PCA, trajectories with and without input, empirical endpoint (§4.1)
  fixed_points  solved fixed points / invariant and slow rays of F0 (normalised iteration, sphere L-BFGS,
                pattern solve), spectra, basins, origin κ, beside the empirical endpoint (§4.1, D3)
  orbits        orbit contours (KDE, iso-proportion levels) and radius / area vs σ (std) with fits (§4.2)
  noise_sweep   stochastic resonance in noise: o-statistics (σ-invariant, P2) and emission match vs σ (§4.3)
  readout       readout-axis alignment with the orbit plane (§4.11)
  training_evolution  per-checkpoint TR, critical/unstable fractions, bifurcation epoch, δh⁽²⁾ (§4.4)
  kick_neurons  causal discovery of kick groups (gate score, batched silencing test vs null), pre-activation maps (§4.7)
  connectivity  noise-integrating populations, weight blocks and block statistics of kick-group pairs (§4.8)
  mean_activity mean activities of kick groups and populations over a noisy run (§4.9)
  ablation      gain μ on kick groups / noise projection / control: switches, critical pairs, trajectories (§4.10)
  residency     residency times, logit sign changes, unstable counts and regions per orbit state (§4.5)
  noise_sensitivity  cluster / transition points before a switch (locate) and the γ-mixing test (§4.6)
  compositional output-pair subspaces, segments (L_min halving), contours, subspace residency (§4.12)
"""
