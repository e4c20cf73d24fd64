"""Check: the numpy voice encoder (lab/similarity.py) gives PyTorch's output for the same weights.

PyTorch is not a dependency of the app; install it aside, e.g.
`.venv/bin/pip install --target /tmp/torch-aside --no-deps torch==2.13.0` (the CPU wheel), then

    .venv/bin/python bench/lab_encoder_parity.py --torch-path /tmp/torch-aside
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-path", required=True)
    args = parser.parse_args()
    sys.path[:0] = [args.torch_path, str(ROOT)]
    import numpy as np
    import torch
    from torch import nn

    from lab import similarity
    from tests.voices import SENTENCES, speak

    state = torch.load(similarity._weights_path(), map_location="cpu", weights_only=False)["model_state"]
    lstm, linear = nn.LSTM(40, 256, 3, batch_first=True), nn.Linear(256, 256)
    lstm.load_state_dict({k.removeprefix("lstm."): v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k.removeprefix("linear."): v for k, v in state.items() if k.startswith("linear.")})
    mel = similarity.mel_spectrogram(similarity.prepare(*speak(f"{SENTENCES[0]} {SENTENCES[1]}")))
    mels = np.stack([mel[i : i + 160] for i in range(0, len(mel) - 160, 104)])
    with torch.no_grad():
        _, (hidden, _) = lstm(torch.from_numpy(mels))
        raw = torch.relu(linear(hidden[-1]))
        reference = (raw / raw.norm(dim=1, keepdim=True)).numpy()
    ours = similarity.VoiceEncoder.load()._forward(mels)
    print(f"{len(mels)} partial utterances: largest difference {np.abs(reference - ours).max():.2e}")
    print(f"lowest cosine between the two embeddings of a partial: {(reference * ours).sum(axis=1).min():.7f}")


if __name__ == "__main__":
    main()
