"""The sandbox hears: transcription gives back what its own speech said, through what the app does to it."""

import numpy as np
import pytest
import requests

from sandbox import voice
from sandbox.hearing import FOREIGN_TRANSCRIPT
from sandbox.testing import running_sandbox
from tests.audio_corpus import encode as corpus_encode
from tests.samples import wav_bytes
from tests.sandbox_api import api_session

FIRST = "The quick brown fox jumps over the lazy dog."
SECOND = "Every take is heard back and checked."
CHINESE = "今天天气很好，我们去公园散步吧。"


@pytest.fixture
def api(sandbox):
    return api_session(sandbox)


def spoken(api, text, **options):
    body = {"model": "glm-tts", "input": text, "voice": "xiaochen", "response_format": "wav", **options}
    answer = api.post(f"{api.base}/audio/speech", json=body)
    assert answer.status_code == 200, answer.text
    return voice.decode(answer.content, rate=24000)


def heard(api, samples, rate=24000, container="wav"):
    data = encode(samples, rate, container)
    answer = api.post(
        f"{api.base}/audio/transcriptions", files={"file": (f"a.{container}", data)}, data={"model": "glm-asr-2512"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["text"]


def encode(samples, rate, container):
    if container == "wav":
        return voice.to_wav(samples, rate)
    return corpus_encode(samples.astype(np.float32), rate, container=container, codec=container, bit_rate=64000)


def without_watermark(samples):
    return samples[int(voice.WATERMARK_SECONDS * 24000) :]


def test_speech_is_heard_back_as_its_text(api):
    assert heard(api, spoken(api, FIRST)) == FIRST
    assert heard(api, spoken(api, CHINESE)) == CHINESE


def test_what_the_app_does_to_a_take_does_not_stop_it_being_heard(api):
    samples = spoken(api, FIRST)
    # Trimmed of its marking and silence, made quieter, resampled to 16 kHz and sent as MP3.
    trimmed = without_watermark(samples)[2400:-2400]
    quieter = 0.4 * trimmed
    resampled = voice._resample(quieter, 24000, 16000)
    assert heard(api, resampled, rate=16000, container="mp3") == FIRST


def test_joined_parts_are_heard_in_order(api):
    first, second = spoken(api, FIRST), spoken(api, SECOND)
    assert heard(api, np.concatenate([first, without_watermark(second)])) == f"{FIRST} {SECOND}"
    assert heard(api, np.concatenate([second, first])) == f"{SECOND} {FIRST}"


def test_a_piece_of_a_take_is_heard_as_the_words_inside_it(api):
    samples = spoken(api, FIRST)
    # Cut in the quietest 10 ms of the middle third, as an app splitting a long take would: between words.
    third = len(samples) // 3
    frames = np.abs(samples[third : third + 240 * (third // 240)]).reshape(-1, 240).sum(axis=1)
    middle = third + 240 * int(np.argmin(frames)) + 120
    head, tail = heard(api, samples[:middle]), heard(api, samples[middle:])
    assert head and tail and FIRST.startswith(head) and FIRST.endswith(tail)
    assert f"{head} {tail}" == FIRST


def test_streamed_and_pcm_speech_are_heard_too(api):
    pcm = api.post(f"{api.base}/audio/speech", json={"model": "glm-tts", "input": SECOND, "voice": "jam"}).content
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    assert heard(api, samples) == SECOND


def test_a_clone_preview_is_heard_as_its_preview_text(api):
    sample = api.post(
        f"{api.base}/files", files={"file": ("s.wav", wav_bytes(4))}, data={"purpose": "voice-clone-input"}
    ).json()
    body = {"model": "glm-tts-clone", "voice_name": "vc_heard", "input": SECOND, "file_id": sample["id"]}
    api.post(f"{api.base}/voice/clone", json=body)
    (entry,) = api.get(f"{api.base}/voice/list", params={"voiceType": "PRIVATE"}).json()["voice_list"]
    preview = voice.decode(requests.get(entry["download_url"], timeout=10).content, rate=24000)
    assert heard(api, 0.5 * preview) == SECOND


@pytest.mark.parametrize(
    ("how", "check"),
    [
        ("drop", lambda words: len(words) == 8 and set(words) < set(FIRST.split())),
        ("repeat", lambda words: len(words) == 10 and set(words) == set(FIRST.split())),
        ("swap", lambda words: sorted(words) == sorted(FIRST.split()) and words != FIRST.split()),
    ],
)
def test_mispeak_fault_changes_what_is_said_and_so_what_is_heard(api, sandbox, how, check):
    sandbox.set_faults([{"route": "audio.speech", "action": "mispeak", "mispeak": how, "seed": 3}])
    words = heard(api, spoken(api, FIRST)).split()
    assert check(words), words
    assert heard(api, spoken(api, FIRST)) == FIRST  # times: 1, the next take is right


def test_mispeak_is_seeded_and_works_on_chinese(api, sandbox):
    rule = {"route": "audio.speech", "action": "mispeak", "mispeak": "drop", "seed": 11, "times": 1}
    sandbox.set_faults([rule])
    first = heard(api, spoken(api, CHINESE))
    sandbox.set_faults([rule])
    assert heard(api, spoken(api, CHINESE)) == first
    assert len(first) == len(CHINESE) - 1


def test_mispeak_by_probability_spoils_some_takes_and_not_others(api, sandbox):
    sandbox.set_faults(
        [
            {
                "route": "audio.speech",
                "action": "mispeak",
                "mispeak": "swap",
                "probability": 0.5,
                "times": None,
                "seed": 5,
            }
        ]
    )
    results = [heard(api, spoken(api, SECOND)) == SECOND for _ in range(8)]
    assert True in results and False in results


def test_audio_it_did_not_make_is_not_recognised(api):
    assert heard(api, voice.decode(wav_bytes(4), rate=24000)) == FOREIGN_TRANSCRIPT
    assert heard(api, np.zeros(24000 * 3, dtype=np.float32)) == ""
    # eSpeak speech made outside the sandbox is foreign too: the sandbox never spoke it.
    assert heard(api, voice.synthesize("Words the sandbox never said.")) == FOREIGN_TRANSCRIPT


def test_recognition_keeps_the_documented_limits(api):
    def send(data):
        return api.post(
            f"{api.base}/audio/transcriptions", files={"file": ("a.wav", data)}, data={"model": "glm-asr-2512"}
        )

    too_long = send(wav_bytes(31))
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "1214"
    assert "30" in too_long.json()["error"]["message"]
    too_big = send(b"RIFF" + b"\0" * (25 * 1024 * 1024))
    assert too_big.status_code == 400 and "25MB" in too_big.json()["error"]["message"]
    assert send(wav_bytes(29)).status_code == 200


def test_hearing_survives_many_remembered_utterances(tmp_path):
    with running_sandbox(tmp_path) as sandbox:
        session = api_session(sandbox)
        for number in range(40):
            spoken(session, f"Filler sentence number {number} with some other words.")
        assert heard(session, spoken(session, FIRST)) == FIRST


def test_mispeak_can_be_limited_to_first_takes(api, sandbox):
    sandbox.set_faults(
        [{"route": "audio.speech", "action": "mispeak", "first_takes_only": True, "times": None, "seed": 1}]
    )
    assert heard(api, spoken(api, FIRST)) != FIRST  # the first take of this text is spoiled
    assert heard(api, spoken(api, FIRST)) == FIRST  # its retry is not
    assert heard(api, spoken(api, SECOND)) != SECOND


def test_the_stream_records_when_its_first_chunk_went_out(api, sandbox):
    body = {"model": "glm-tts", "input": SECOND, "voice": "jam", "stream": True}
    assert api.post(f"{api.base}/audio/speech", json=body).content.startswith(b"data: ")
    (call,) = sandbox.calls("audio.speech")
    assert call["at"] <= call["stream"]["first_chunk_at"] <= call["finished_at"] and call["stream"]["complete"]


def test_a_restarted_sandbox_still_hears_what_it_said(tmp_path):
    with running_sandbox(tmp_path) as sandbox:
        samples = spoken(api_session(sandbox), SECOND)
    with running_sandbox(tmp_path) as sandbox:
        assert heard(api_session(sandbox), 0.5 * samples) == SECOND
        sandbox.reset()
        assert heard(api_session(sandbox), 0.5 * samples) == FOREIGN_TRANSCRIPT
