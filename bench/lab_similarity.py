"""Benchmark: the similarity score for one 30 s sample and one preview, and the install size it adds.

Times what `lab.tasks.measure` does once the files are read: both WAVs decoded to 16 kHz mono, then
`lab.similarity.similarity` (both embeddings in one batch, and the cosine), on a 30 s eSpeak NG
recording and an 8 s one in another voice, over several rounds after one warm-up. Beside it, in the
same run and alternating with it, the encoder as it was before (gates split per step, one embedding at
a time, threadpoolctl looking for the BLAS libraries on every call), so the ratio holds whatever the
load. Then the first score in a fresh process (loading the weights from the wheel), now and as before
(scipy imported on the first call), and the size on disk of what requirements-lab.txt installs.

    .venv/bin/python bench/lab_similarity.py [--rounds 9] [--profile]
"""

import argparse
import cProfile
import importlib.util
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clones.audio import decode_mono  # noqa: E402
from lab import similarity  # noqa: E402
from sandbox.voice import to_wav  # noqa: E402
from tests.voices import SENTENCES, speak  # noqa: E402


def package_size(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        return 0
    if not spec.submodule_search_locations:
        return Path(spec.origin).stat().st_size  # a single module
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def before_forward(weights, mels):
    """The encoder's recurrence as it was: PyTorch's gate order, np.split and a sigmoid per gate."""

    def sigmoid(x):
        return 0.5 * (1.0 + np.tanh(0.5 * x))

    sequence = mels
    for layer in range(3):
        w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        inputs = sequence @ w_ih.T + bias
        h = np.zeros((mels.shape[0], w_hh.shape[1]), dtype=np.float32)
        c = np.zeros_like(h)
        outputs = np.empty((mels.shape[0], mels.shape[1], w_hh.shape[1]), dtype=np.float32)
        for t in range(mels.shape[1]):
            i, f, g, o = np.split(inputs[:, t] + h @ w_hh.T, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            outputs[:, t] = h
        sequence = outputs
    raw = np.maximum(h @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)


def before_similarity(reference, other):
    from threadpoolctl import threadpool_limits

    encoder = similarity.VoiceEncoder.load()
    embeddings = []
    with threadpool_limits(limits=1, user_api="blas"):
        for recording in (reference, other):
            partials = np.stack(similarity._partials(similarity.prepare(*recording)))
            mean = before_forward(encoder.weights, partials).mean(axis=0)
            embeddings.append(mean / np.linalg.norm(mean))
    return float(np.dot(*embeddings))


def decoded(wav):
    return decode_mono(wav, rate=similarity.RATE).astype("float32") / 32768, similarity.RATE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the rounds")
    args = parser.parse_args()
    samples, rate = speak(" ".join(SENTENCES * 2), "low")
    sample_wav = to_wav(samples[: 30 * rate], rate)
    preview_wav = to_wav(*speak(f"{SENTENCES[1]} {SENTENCES[2]}", "high"))
    print(f"sample {len(samples[: 30 * rate]) / rate:.1f} s, preview from {rate} Hz WAVs")

    def cold(before):
        # Before, prepare() imported scipy.signal on every call, whatever the rate: the first call paid it.
        code = (
            "import sys, time; sys.path.insert(0, '.'); t = time.perf_counter(); "
            "from lab import similarity; import numpy as np; "
            + ("import scipy.signal; " if before else "")
            + "a, b = np.full(16000 * 30, 0.01, 'float32'), np.full(16000 * 8, 0.01, 'float32'); "
            "similarity.similarity((a, 16000), (b, 16000)); "
            "print(time.perf_counter() - t)"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        return float(done.stdout)

    cold_now, cold_before = cold(False), cold(True)

    def now():
        sample, preview = decoded(sample_wav), decoded(preview_wav)
        return similarity.similarity(sample, preview)

    def before():
        sample, preview = decoded(sample_wav), decoded(preview_wav)
        return before_similarity(sample, preview)

    score, before_score = now(), before()  # warm-up
    profile = cProfile.Profile() if args.profile else None
    runs, before_runs, decode_runs = [], [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        decoded(sample_wav), decoded(preview_wav)
        decode_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        if profile:
            profile.enable()
        score = now()
        if profile:
            profile.disable()
        runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        before_score = before()
        before_runs.append(time.perf_counter() - started)
    load = os.getloadavg()
    median, before_median = statistics.median(runs), statistics.median(before_runs)
    print(f"\nload average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (1, 5, 15 min) after the runs")
    print("\n| measure | now | before |")
    print("|---|---|---|")
    print(
        f"| decode + score, 30 s sample against an 8 s preview (median of {args.rounds}) "
        f"| **{median * 1000:.0f} ms** | {before_median * 1000:.0f} ms |"
    )
    print(
        f"| fastest, slowest | {min(runs) * 1000:.0f} ms, {max(runs) * 1000:.0f} ms "
        f"| {min(before_runs) * 1000:.0f} ms, {max(before_runs) * 1000:.0f} ms |"
    )
    print(f"| of which decoding both WAVs to 16 kHz (median) | {statistics.median(decode_runs) * 1000:.0f} ms | same |")
    print(f"| ratio now / before (median) | {median / before_median:.2f} | |")
    print(f"| the score itself (two speakers) | {score:.4f} | {before_score:.4f} |")
    print(f"| first score in a new process | {cold_now * 1000:.0f} ms | {cold_before * 1000:.0f} ms |")
    names = ("resemblyzer", "noisereduce", "joblib", "tqdm", "cloudpickle", "threadpoolctl")
    sizes = {name: package_size(name) for name in names}
    for name, size in sizes.items():
        print(f"| installed size of `{name}` | {size / 1024 / 1024:.1f} MB | |")
    print(f"| all of requirements-lab.txt | {sum(sizes.values()) / 1024 / 1024:.1f} MB | |")
    print(f"\ngoal under 1 s: {'OK' if median < 1 else 'OVER'}")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
