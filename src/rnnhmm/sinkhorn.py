"""The training loss: the debiased Sinkhorn divergence between two clouds of flattened sequences
(SCIENCE.md §1.3), cost c(x, y) = ½‖x − y‖², uniform weights, ε-scaling.

``geomloss`` is the reference implementation; other backends must reproduce it exactly
(tests/test_sinkhorn.py compares them).
"""

from __future__ import annotations

import torch

BACKENDS = ("geomloss",)


def sinkhorn_divergence(
    x: torch.Tensor, y: torch.Tensor, blur: float = 0.2, scaling: float = 0.5, backend: str = "geomloss"
) -> torch.Tensor:
    """S_ε(x, y) for point clouds x (N, D) and y (M, D); differentiable in x (and y)."""
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"sinkhorn_divergence needs clouds (N, D) and (M, D), got {tuple(x.shape)} and {tuple(y.shape)}")
    if blur <= 0 or not 0 < scaling < 1:
        raise ValueError(f"sinkhorn_divergence needs blur > 0 and 0 < scaling < 1, got blur={blur}, scaling={scaling}")
    if backend == "geomloss":
        return _geomloss(blur, scaling)(x, y)
    raise ValueError(f"unknown Sinkhorn backend '{backend}', allowed: {', '.join(BACKENDS)}")


_GEOMLOSS_CACHE: dict = {}


def _geomloss(blur: float, scaling: float):
    key = (blur, scaling)
    if key not in _GEOMLOSS_CACHE:
        from geomloss import SamplesLoss

        _GEOMLOSS_CACHE[key] = SamplesLoss(
            "sinkhorn", p=2, blur=blur, scaling=scaling, debias=True, backend="tensorized"
        )
    return _GEOMLOSS_CACHE[key]
