"""How close a clone sounds to its sample: speaker embeddings compared by cosine similarity.

The model is Resemblyzer's voice encoder (a GE2E-trained 3-layer LSTM, Apache-2.0), whose 17 MB of
weights ship inside the `resemblyzer` wheel. Resemblyzer itself would run it with PyTorch, librosa and
webrtcvad (about 800 MB installed); the network is small enough to run here in numpy instead, reading
the weights from the wheel's `pretrained.pt` without PyTorch. Nothing is downloaded at run time.
The README (Similarity score) compares this choice with the alternatives.
"""

import contextlib
import functools
import importlib.util
import math
import pickle
import struct
from pathlib import Path

import numpy as np

# Resemblyzer's hyperparameters (resemblyzer/hparams.py): 16 kHz audio, 25 ms windows every 10 ms,
# 40 mel bands, partial utterances of 160 frames (1.6 s) averaged into one embedding.
RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
PARTIAL_FRAMES = 160
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75
MODEL_NAME = "resemblyzer-0.1.4-ge2e"


class SimilarityUnavailable(RuntimeError):
    """The model's package is not installed (it is optional)."""


def is_available():
    return importlib.util.find_spec("resemblyzer") is not None


def _weights_path():
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise SimilarityUnavailable("resemblyzer is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


# -- reading a legacy PyTorch checkpoint without PyTorch ----------------------------------------------
# torch.save's pre-1.6 format is: a magic number, the protocol version and system info (three pickles),
# then the state pickled with "persistent ids" standing for tensor storages, then the list of storage
# keys, then each storage's raw bytes preceded by its element count. Only float32 tensors occur here.


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel, self.data = key, numel, None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self):
        base = self.storage.data
        strides = tuple(s * 4 for s in self.stride)
        return np.lib.stride_tricks.as_strided(base[self.offset :], shape=self.size, strides=strides).copy()


class _StateDict(dict):
    """collections.OrderedDict as pickled by PyTorch, which also sets a `_metadata` attribute on it."""


def _rebuild_tensor(storage, offset, size, stride, *args):
    return _Tensor(storage, offset, size, stride)


class _CheckpointUnpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "collections" and name == "OrderedDict":
            return _StateDict
        if module == "torch" and name == "FloatStorage":
            return "float32"
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel = pid[:5]
        if kind != "storage" or dtype != "float32":
            raise pickle.UnpicklingError("only float32 storages are expected")
        return self.storages.setdefault(key, _Storage(key, numel))


def load_checkpoint(path):
    """The checkpoint's `model_state` as {name: float32 array}."""
    storages = {}
    with open(path, "rb") as file:
        for _header in range(3):  # magic number, protocol version, system info
            pickle.load(file)  # noqa: S301 - the file is the wheel's own, read with a closed set of globals
        state = _CheckpointUnpickler(file, storages).load()
        keys = pickle.load(file)  # noqa: S301
        for key in keys:
            (numel,) = struct.unpack("<q", file.read(8))
            storages[key].data = np.frombuffer(file.read(numel * 4), dtype="<f4")
    return {name: tensor.array() for name, tensor in state["model_state"].items()}


# -- features and network, as Resemblyzer computes them ------------------------------------------------


@functools.cache
def _mel_filters():
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney's mel scale, area-normalized."""

    def hz_to_mel(hz):
        hz = np.asanyarray(hz, dtype=np.float64)
        linear = hz / (200.0 / 3)
        log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (math.log(6.4) / 27.0)
        return np.where(hz >= 1000.0, log_part, linear)

    def mel_to_hz(mel):
        mel = np.asanyarray(mel, dtype=np.float64)
        linear = mel * (200.0 / 3)
        log_part = 1000.0 * np.exp((math.log(6.4) / 27.0) * (mel - 15.0))
        return np.where(mel >= 15.0, log_part, linear)

    fft_hz = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(RATE / 2), N_MELS + 2))
    widths = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2 : N_MELS + 2] - mel_hz[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(samples):
    """Power mel spectrogram, frames x 40, centred frames as librosa makes them."""
    padded = np.pad(samples, N_FFT // 2, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ _mel_filters().T).astype(np.float32)


class VoiceEncoder:
    def __init__(self, weights):
        self.weights = weights
        # Laid out once for the recurrence: each layer's matrices transposed and contiguous, and the gates
        # reordered from PyTorch's (input, forget, cell, output) to (input, forget, output, cell), so the
        # three sigmoid gates are one contiguous block and one call (bench/README.md: about 15% faster).
        self.layers = []
        for layer in range(3):
            w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
            bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
            self.layers.append(
                (np.ascontiguousarray(_sigmoids_first(w_ih).T), np.ascontiguousarray(_sigmoids_first(w_hh).T),
                 _sigmoids_first(bias))
            )  # fmt: skip

    @classmethod
    @functools.cache
    def load(cls):
        return cls(load_checkpoint(_weights_path()))

    def _forward(self, mels):
        """Embeddings of a batch of partials (batch x 160 x 40), L2-normalized."""
        batch, steps, _bands = mels.shape
        sequence = mels
        for w_ih_t, w_hh_t, bias in self.layers:
            hidden = w_hh_t.shape[0]
            inputs = sequence @ w_ih_t + bias  # every time step at once; only the recurrence is a loop
            h = np.zeros((batch, hidden), dtype=np.float32)
            c = np.zeros_like(h)
            gates = np.empty((batch, 4 * hidden), dtype=np.float32)
            outputs = np.empty((batch, steps, hidden), dtype=np.float32)
            sigmoids, cell = gates[:, : 3 * hidden], gates[:, 3 * hidden :]
            i, f, o = sigmoids[:, :hidden], sigmoids[:, hidden : 2 * hidden], sigmoids[:, 2 * hidden :]
            for t in range(steps):
                np.matmul(h, w_hh_t, out=gates)
                gates += inputs[:, t]
                _sigmoid_in_place(sigmoids)
                np.tanh(cell, out=cell)
                c *= f
                cell *= i
                c += cell
                np.tanh(c, out=h)
                h *= o
                outputs[:, t] = h
            sequence = outputs
        w = self.weights
        raw = np.maximum(h @ w["linear.weight"].T + w["linear.bias"], 0)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)

    def embed(self, samples):
        """One embedding for mono float32 samples at 16 kHz (Resemblyzer's embed_utterance)."""
        return self.embed_many([samples])[0]

    def embed_many(self, recordings):
        """One embedding per recording, their partials run through the network as one batch.

        The recurrence is a loop of small matrix products whose cost is mostly reading the weights, so
        one batch of the sample's and the preview's partials together costs little more than the larger
        alone (bench/README.md).
        """
        partials, counts = [], []
        for samples in recordings:
            mine = _partials(samples)
            partials.extend(mine)
            counts.append(len(mine))
        embeddings = self._forward(np.stack(partials))
        result, start = [], 0
        for count in counts:
            mean = embeddings[start : start + count].mean(axis=0)
            result.append(mean / np.linalg.norm(mean))
            start += count
        return result


def _sigmoids_first(matrix):
    """Rows in gate order (input, forget, output, cell) instead of PyTorch's (input, forget, cell, output)."""
    i, f, g, o = np.split(matrix, 4, axis=0)
    return np.concatenate([i, f, o, g], axis=0)


def _sigmoid_in_place(x):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2, computed in x's own memory."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5


def _partials(samples):
    """The 1.6 s partial utterances' mel spectrograms for one recording, as embed_utterance cuts them."""
    n_frames = int(np.ceil((len(samples) + 1) / HOP))
    step = int(np.round((RATE / PARTIALS_PER_SECOND) / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    last = starts[-1] * HOP
    coverage = (len(samples) - last) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts = starts[:-1]
    needed = (starts[-1] + PARTIAL_FRAMES) * HOP
    if needed >= len(samples):
        samples = np.pad(samples, (0, needed - len(samples)))
    mel = mel_spectrogram(samples)
    return [mel[s : s + PARTIAL_FRAMES] for s in starts]


def prepare(samples, rate):
    """Mono float samples at any rate, as the encoder hears them: 16 kHz, -30 dBFS RMS, long pauses cut."""
    samples = np.asarray(samples, dtype=np.float32)
    if rate != RATE:
        # Imported only here: scipy.signal takes about a second to import, and the task decodes to 16 kHz.
        from scipy.signal import resample_poly

        divisor = math.gcd(int(rate), RATE)
        samples = resample_poly(samples, RATE // divisor, int(rate) // divisor).astype(np.float32)
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0
    if 0 < rms < 10 ** (-30 / 20):
        samples = samples * np.float32(10 ** (-30 / 20) / rms)  # raised only, as Resemblyzer does
    return _trim_long_silences(samples)


def _trim_long_silences(samples, window=480, max_silent_windows=6):
    """Pauses longer than ~0.2 s cut down, by an energy gate (Resemblyzer uses webrtcvad for this)."""
    whole = len(samples) - len(samples) % window
    if whole == 0:
        return samples
    blocks = samples[:whole].reshape(-1, window)
    db = 10 * np.log10(np.maximum(np.mean(blocks.astype(np.float64) ** 2, axis=1), 1e-10))
    threshold = max(np.percentile(db, 10) + 10, db.max() - 40)
    voiced = db > threshold
    keep = np.convolve(voiced.astype(int), np.ones(2 * max_silent_windows + 1, dtype=int), mode="same") > 0
    kept = blocks[keep].reshape(-1)
    return kept if len(kept) >= RATE else samples


def _one_blas_thread():
    """A context in which numpy's BLAS uses one thread (if threadpoolctl is installed, as requirements-lab.txt has it).

    The network multiplies small matrices hundreds of times; with OpenBLAS's default of a thread per core,
    those threads wait on each other whenever the machine is busy (bench/README.md measured a median of
    13 s against 0.64 s with one thread, on 2 cores shared with other work).
    """
    controller = _threadpool_controller()
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


@functools.cache
def _threadpool_controller():
    """threadpoolctl's view of the loaded BLAS libraries, found once: finding them scans every loaded library."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def similarity(reference, other):
    """Cosine similarity of two (samples, rate) recordings' speaker embeddings, -1..1 (in practice 0..1)."""
    encoder = VoiceEncoder.load()
    with _one_blas_thread():
        a, b = encoder.embed_many([prepare(*reference), prepare(*other)])
    return float(np.dot(a, b))
