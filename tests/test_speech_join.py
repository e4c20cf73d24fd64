"""Speech parts are joined on disk, in order, with pauses, exactly as the in-memory join did."""

import io
import wave

import numpy as np
import pytest

from clones.audio import decode_mono, join_speech
from clones.speech_join import join_parts
from clones.watermark import trim_part_chunks
from tests.samples import wav_bytes


def _samples(path):
    with wave.open(str(path)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 24000)
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")


@pytest.fixture
def parts(tmp_path):
    paths = []
    for index, (seconds, f0) in enumerate([(1.0, 110.0), (2.0, 150.0), (0.5, 200.0)]):
        path = tmp_path / f"part-{index}.wav"
        path.write_bytes(wav_bytes(seconds, f0=f0, rate=16000 + index * 8000))  # any rate is resampled
        paths.append(path)
    return paths


def test_parts_are_joined_on_disk_as_they_were_in_memory(parts, tmp_path):
    out = tmp_path / "joined.wav"
    seconds = join_parts(parts, out, pause_seconds=0.3, trim=trim_part_chunks)
    expected, expected_seconds = join_speech([p.read_bytes() for p in parts], 0.3)  # it trims the watermark
    assert seconds == pytest.approx(expected_seconds)
    assert np.array_equal(_samples(out), np.frombuffer(wave.open(io.BytesIO(expected)).readframes(10**9), "<i2"))


def test_a_per_part_trim_plugs_in_between_decoding_and_writing(parts, tmp_path):
    def drop_first_tenth_of_a_second(index, chunks):
        skip = 2400
        for chunk in chunks:
            kept = chunk[skip:]
            skip = max(0, skip - len(chunk))
            if len(kept):
                yield kept

    out = tmp_path / "trimmed.wav"
    seconds = join_parts(parts, out, pause_seconds=0.3, trim=drop_first_tenth_of_a_second)
    whole = sum(len(decode_mono(p.read_bytes())) for p in parts) / 24000
    assert seconds == pytest.approx(whole + 0.6 - 0.3)
    assert len(_samples(out)) == round(seconds * 24000)
