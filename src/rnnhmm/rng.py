"""Named random streams.

Every draw in the project comes from a generator whose seed is derived with SHA-256 from
``base_seed|part|part|...`` (docs/method.md D7).  Nothing touches a global RNG, so a result depends
only on its inputs, never on what ran before it in the same process.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where a torch generator is made: the hmm stage has no torch
    import torch


def derive_seed(base_seed: int, *parts: object) -> int:
    """A 63-bit seed from the base seed and the parts that name a stream."""
    text = "|".join([str(int(base_seed)), *(str(p) for p in parts)])
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def numpy_rng(base_seed: int, *parts: object) -> np.random.Generator:
    """A numpy generator (PCG64) for the named stream."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(derive_seed(base_seed, *parts))))


def torch_generator(base_seed: int, *parts: object, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch generator for the named stream."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(base_seed, *parts))
    return gen
