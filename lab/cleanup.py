"""Noise reduction before cloning: spectral gating with `noisereduce`, on the CPU, no model to download.

Offered when the quality report finds background noise. The cleaned audio goes through the intake again,
so its report (noise floor, signal to noise) is measured on the result, not assumed. The README (Cleanup)
says why noisereduce and not an RNNoise binding.
"""

import importlib.util
import io

import numpy as np

from clones.intake import SAMPLE_RATE, prepare_sample
from lab.assembly import samples_of, to_wav

# How much of the estimated noise to take away: all of it (1.0) leaves the "underwater" artefacts that
# spectral gating is known for; 0.85 keeps a trace of room tone and the voice natural.
PROP_DECREASE = 0.85


def is_available():
    return importlib.util.find_spec("noisereduce") is not None


def finds_noise(report):
    return any(advice["code"] == "background_noise" for advice in report.get("advice", []))


def reduce_noise(prepared):
    """The prepared sample with its steady background noise reduced, measured again by the intake."""
    import noisereduce

    samples = samples_of(prepared.wav)
    cleaned = noisereduce.reduce_noise(
        y=samples, sr=SAMPLE_RATE, stationary=True, prop_decrease=PROP_DECREASE, n_jobs=1
    ).astype(np.float32)
    return prepare_sample(io.BytesIO(to_wav(cleaned)))
