"""Measure: how the similarity score treats a sandbox preview, against same- and different-speaker figures.

The sandbox does not clone: its preview is eSpeak NG speaking the preview text in its default English
voice, pitched toward the sample's median F0 (sandbox/app.py estimates it, sandbox/voice.py speaks),
with the provider's audible mark in front. Nothing else of the sample reaches it. This makes "speakers"
with the eSpeak NG command line (different voice variants and pitches) and sox (pitch and formant shifts,
equalization, room), and scores, for each, with `lab.similarity.similarity`:

- its sample (about 20 s) against a sandbox preview made from that sample, as the sandbox makes it;
- its sample against the same speaker saying other words (what a faithful clone could reach);
- its sample against each other speaker saying those other words.

    .venv/bin/python bench/lab_sandbox_scores.py
"""

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lab import similarity  # noqa: E402
from sandbox import voice  # noqa: E402
from tests.voices import SENTENCES  # noqa: E402

SAMPLE_TEXT = " ".join(SENTENCES[:3])
OTHER_TEXT = f"{SENTENCES[3]} {SENTENCES[4]}"
PREVIEW_TEXT = "Hello, this is my cloned voice reading the preview text, one sentence after another."

# name: (eSpeak NG voice, pitch 0-99, words a minute, sox effects)
SPEAKERS = {
    "eSpeak en+m3, low pitch (the tests' low voice)": ("en+m3", 35, 165, []),
    "eSpeak en+f4, high pitch (the tests' high voice)": ("en+f4", 85, 165, []),
    "eSpeak en-us+Andy, sox pitch -300, bass +6": ("en-us+Andy", 50, 150, ["pitch", "-300", "bass", "+6"]),
    "eSpeak en-gb-scotland+Annie, sox pitch +200, treble +4": (
        "en-gb-scotland+Annie",
        60,
        175,
        ["pitch", "+200", "treble", "+4"],
    ),
    "eSpeak en+Michael, sox formants down (speed 0.85, tempo 1.18), room": (
        "en+Michael",
        45,
        160,
        ["speed", "0.85", "tempo", "1.18", "reverb", "25"],
    ),
}


def record(folder, name, text, spec):
    """(float32 samples, 16000) of `text` said by the speaker `spec`, made with espeak-ng and sox."""
    espeak_voice, pitch, wpm, effects = spec
    raw, out = folder / f"{name}-raw.wav", folder / f"{name}.wav"
    subprocess.run(
        ["espeak-ng", "-v", espeak_voice, "-p", str(pitch), "-s", str(wpm), "-w", str(raw), text], check=True
    )
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), *effects], check=True)
    return voice.decode(out.read_bytes(), rate=16000).astype(np.float32), 16000


def sandbox_preview(sample, *, watermark=True, f0=None):
    """The preview the sandbox makes for a clone of `sample`: its F0, eSpeak's voice, the mark in front."""
    samples, rate = sample
    f0 = f0 or voice.estimate_f0(samples, rate) or 120.0
    return voice.speak(PREVIEW_TEXT, f0=f0, watermark=watermark).samples, voice.OUTPUT_RATE, f0


def main():
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        samples, others = {}, {}
        for index, (name, spec) in enumerate(SPEAKERS.items()):
            samples[name] = record(folder, f"s{index}", SAMPLE_TEXT, spec)
            others[name] = record(folder, f"o{index}", OTHER_TEXT, spec)
    print("| speaker (the sample) | F0 the sandbox hears | sandbox preview | the same at 120 Hz "
          "| same speaker, other words | other speakers, other words: mean (highest) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    previews, sames, differents, unmarked, fixed = [], [], [], [], []
    for name, sample in samples.items():
        preview, rate, f0 = sandbox_preview(sample)
        plain, _rate, _f0 = sandbox_preview(sample, watermark=False)
        previews.append(similarity.similarity(sample, (preview, rate)))
        unmarked.append(similarity.similarity(sample, (plain, rate)))
        flat, _rate, _f0 = sandbox_preview(sample, f0=120.0)
        fixed.append(similarity.similarity(sample, (flat, rate)))
        sames.append(similarity.similarity(sample, others[name]))
        against = [similarity.similarity(sample, others[other]) for other in samples if other != name]
        differents.extend(against)
        print(
            f"| {name} | {f0:.0f} Hz | **{previews[-1]:.2f}** | {fixed[-1]:.2f} | {sames[-1]:.2f} "
            f"| {statistics.mean(against):.2f} ({max(against):.2f}) |"
        )
    print(
        f"\nmeans: sandbox preview {statistics.mean(previews):.2f} (without the mark in front "
        f"{statistics.mean(unmarked):.2f}, at 120 Hz whatever the sample {statistics.mean(fixed):.2f}), "
        f"same speaker {statistics.mean(sames):.2f}, "
        f"other speakers {statistics.mean(differents):.2f} (highest {max(differents):.2f})"
    )


if __name__ == "__main__":
    main()
