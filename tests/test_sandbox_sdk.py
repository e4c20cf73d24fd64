"""The provider's own Python SDK (`zai-sdk`) drives the sandbox: proof, from code the provider wrote,
that the sandbox speaks their API. Every call below is the SDK's, and every result is what it parsed."""

import base64
import io

import numpy as np
import pytest
from zai import ZhipuAiClient
from zai.core._errors import APIRequestFailedError, APIResponseError
from zai.types.audio import AudioSpeechChunk
from zai.types.voiceclone import VoiceCloneResult, VoiceDeleteResult, VoiceListResult

from sandbox import voice
from tests.samples import wav_bytes

PREVIEW = "Hello from the official client."
SPOKEN = "The provider's client reads every chunk."


@pytest.fixture
def sdk(sandbox):
    client = ZhipuAiClient(api_key=sandbox.api_key, base_url=sandbox.base_url, max_retries=0)
    yield client
    client.close()


def test_the_sdk_uploads_clones_lists_speaks_transcribes_and_deletes(sdk, sandbox):
    uploaded = sdk.files.create(file=("sample.wav", io.BytesIO(wav_bytes(4)), "audio/wav"), purpose="voice-clone-input")
    assert uploaded.id and uploaded.purpose == "voice-clone-input" and uploaded.bytes == len(wav_bytes(4))

    cloned = sdk.voice.clone(
        voice_name="vc_sdk", text="A transcript.", input=PREVIEW, file_id=uploaded.id, model="glm-tts-clone"
    )
    assert isinstance(cloned, VoiceCloneResult)
    assert cloned.voice != "vc_sdk" and cloned.file_purpose == "voice-clone-output" and cloned.file_id

    private = sdk.voice.list(voice_type="PRIVATE", voice_name="vc_sdk")
    assert isinstance(private, VoiceListResult)
    (listed,) = private.voice_list
    assert (listed.voice, listed.voice_name, listed.voice_type) == (cloned.voice, "vc_sdk", "PRIVATE")
    assert listed.download_url and len(listed.create_time) == len("2026-01-01 00:00:00")
    official = sdk.voice.list(voice_type="OFFICIAL")
    assert {"tongtong", "xiaochen"} <= {v.voice for v in official.voice_list}

    wav = sdk.audio.speech(model="glm-tts", input=SPOKEN, voice=cloned.voice, response_format="wav").content
    assert wav[:4] == b"RIFF"
    pcm = sdk.audio.speech(model="glm-tts", input=SPOKEN, voice="tongtong").content  # pcm is the default
    assert len(pcm) % 2 == 0 and len(pcm) > 24000

    transcript = sdk.audio.transcriptions.create(file=("take.wav", io.BytesIO(wav)), model="glm-asr-2512")
    assert transcript.text == SPOKEN and transcript.model == "glm-asr-2512" and transcript.request_id

    deleted = sdk.voice.delete(voice=cloned.voice)
    assert isinstance(deleted, VoiceDeleteResult) and deleted.voice == cloned.voice and deleted.update_time
    assert sdk.voice.list(voice_type="PRIVATE").voice_list == []
    gone = sdk.files.delete(file_id=uploaded.id)
    assert gone.deleted and gone.id == uploaded.id
    assert [c["route"] for c in sandbox.calls()] == [
        "files.upload",
        "voice.clone",
        "voice.list",
        "voice.list",
        "audio.speech",
        "audio.speech",
        "audio.transcriptions",
        "voice.delete",
        "voice.list",
        "files.delete",
    ]


@pytest.mark.parametrize("encode_format", ["base64", "hex"])
def test_the_sdk_streams_speech_from_the_sandbox(sdk, encode_format):
    decode = base64.b64decode if encode_format == "base64" else bytes.fromhex
    chunks = list(
        sdk.audio.speech(
            model="glm-tts",
            input=SPOKEN,
            voice="xiaochen",
            response_format="pcm",
            encode_format=encode_format,
            stream=True,
            request_id="sdk-stream-1",
        )
    )
    assert len(chunks) > 5 and all(isinstance(chunk, AudioSpeechChunk) for chunk in chunks)
    assert {chunk.request_id for chunk in chunks} == {"sdk-stream-1"}
    assert [chunk.choices[0].index for chunk in chunks] == [0] * len(chunks)
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    pcm = b"".join(decode(chunk.choices[0].delta.content) for chunk in chunks)
    samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    assert voice.watermark_present(samples, 24000)
    # What streamed is heard back as the text it says.
    transcript = sdk.audio.transcriptions.create(
        file=("stream.wav", io.BytesIO(voice.to_wav(samples))), model="glm-asr-2512"
    )
    assert transcript.text == SPOKEN


def test_the_sdk_reads_the_sandbox_errors(sdk, sandbox):
    sandbox.set_faults([{"route": "voice.list", "code": "1220"}])
    with pytest.raises(Exception) as raised:
        sdk.voice.list(voice_type="PRIVATE")
    assert raised.value.status_code == 403 and "1220" in str(raised.value)
    with pytest.raises(APIRequestFailedError) as raised:
        sdk.audio.speech(model="glm-tts", input=SPOKEN, voice="nobody", response_format="wav")
    assert raised.value.status_code == 400 and "1214" in str(raised.value)


def test_the_sdk_raises_on_an_error_in_the_middle_of_a_stream(sdk, sandbox):
    sandbox.set_faults([{"route": "audio.speech", "action": "stream_error", "after_chunks": 2, "code": "1234"}])
    received = []
    with pytest.raises(APIResponseError) as raised:
        for chunk in sdk.audio.speech(model="glm-tts", input=SPOKEN, voice="jam", stream=True):
            received.append(chunk)
    assert len(received) == 2 and raised.value.json_data["code"] == "1234"
