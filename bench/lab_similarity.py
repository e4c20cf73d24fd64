"""Benchmark: the similarity score for one 30 s sample and one preview, and the install size it adds.

Times `lab.similarity.similarity` (both embeddings and the cosine) on a 30 s eSpeak NG recording and
an 8 s one in another voice, as the clone page's task does after decoding, over several rounds after
one warm-up; also the first call in a fresh process (loading the weights from the wheel). Then the
size on disk of what requirements-lab.txt installs.

    .venv/bin/python bench/lab_similarity.py [--rounds 9]
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import similarity  # noqa: E402
from tests.voices import SENTENCES, speak  # noqa: E402


def package_size(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        return 0
    if not spec.submodule_search_locations:
        return Path(spec.origin).stat().st_size  # a single module
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    sample, rate = speak(" ".join(SENTENCES * 2), "low")
    sample = sample[: 30 * rate]
    preview = speak(f"{SENTENCES[1]} {SENTENCES[2]}", "high")
    print(f"sample {len(sample) / rate:.1f} s, preview {len(preview[0]) / preview[1]:.1f} s, at {rate} Hz")

    cold = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.path.insert(0, '.'); t = time.perf_counter(); "
            "from lab import similarity; import numpy as np; "
            "a, b = np.full(16000 * 30, 0.01, 'float32'), np.full(16000 * 8, 0.01, 'float32'); "
            "similarity.similarity((a, 16000), (b, 16000)); "
            "print(time.perf_counter() - t)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    similarity.similarity((sample, rate), preview)  # warm-up
    runs = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        score = similarity.similarity((sample, rate), preview)
        runs.append(time.perf_counter() - started)
    median = statistics.median(runs)
    print("\n| measure | figure |")
    print("|---|---|")
    print(f"| score of a 30 s sample against an 8 s preview (median of {args.rounds}) | **{median * 1000:.0f} ms** |")
    print(f"| fastest, slowest | {min(runs) * 1000:.0f} ms, {max(runs) * 1000:.0f} ms |")
    print(f"| first score in a fresh process (imports, weights, scipy) | {float(cold.stdout) * 1000:.0f} ms |")
    print(f"| the score itself (two speakers) | {score:.3f} |")
    names = ("resemblyzer", "noisereduce", "joblib", "tqdm", "cloudpickle", "threadpoolctl")
    sizes = {name: package_size(name) for name in names}
    for name, size in sizes.items():
        print(f"| installed size of `{name}` | {size / 1024 / 1024:.1f} MB |")
    print(f"| all of requirements-lab.txt | {sum(sizes.values()) / 1024 / 1024:.1f} MB |")
    print(f"\ngoal under 1 s: {'OK' if median < 1 else 'OVER'}")


if __name__ == "__main__":
    main()
