"""The sandbox's HTTP layer: BigModel's voice routes on a Werkzeug app, plus /_sandbox/ controls.

Behaviour follows the BigModel API reference (docs.bigmodel.cn: 文件 API, 音色复刻, 文本转语音, 语音转文本,
the error-code page) and what the official SDK (`zai-sdk`) sends and parses. Where the documentation
leaves a point open the choice made here is marked "uncertain" in a comment.
"""

import base64
import hashlib
import json
import socket
import threading
import time
import uuid

import numpy as np
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox import errors, hearing, voice
from sandbox.faults import Faults
from sandbox.store import Store, timestamp

API = "/api/paas/v4"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The file API's own limit (HTTP 435); voice-clone samples have the lower limit above.
MAX_FILE_API_BYTES = 100 * 1024 * 1024
MAX_TRANSCRIBE_BYTES = 25 * 1024 * 1024
MAX_INPUT_CHARS = 1024
CLONE_MODELS = {"glm-tts-clone", "cogtts-clone"}
SPEECH_MODELS = {"glm-tts", "cogtts"}
ASR_MODEL = "glm-asr-2512"
# The official voices, each given its own pitch so that they sound apart.
SYSTEM_VOICES = {"tongtong": 220, "chuichui": 260, "xiaochen": 200, "jam": 120, "kazi": 140, "douji": 100, "luodo": 160}
# Their display names as the speech API reference lists them (uncertain: what /voice/list?voiceType=OFFICIAL
# puts in voice_name is not documented; the id goes in "voice" as for private voices).
SYSTEM_VOICE_NAMES = {
    "tongtong": "彤彤",
    "chuichui": "锤锤",
    "xiaochen": "小陈",
    "jam": "动动动物圈jam音色",
    "kazi": "动动动物圈kazi音色",
    "douji": "动动动物圈douji音色",
    "luodo": "动动动物圈luodo音色",
}
SYSTEM_VOICE_SAMPLE = "你好，欢迎使用智谱开放平台。"
# Streamed speech is sent in chunks of this many seconds of PCM.
STREAM_CHUNK_SECONDS = 0.2
# The first field of each route's answer: what the "missing_field" fault leaves out unless told otherwise.
FIRST_FIELD = {
    "files.upload": "id",
    "voice.clone": "voice",
    "voice.list": "download_url",
    "voice.delete": "voice",
    "audio.transcriptions": "text",
    "files.delete": "deleted",
}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    @classmethod
    def documented(cls, code, **values):
        """The error `code` with its documented HTTP status and message."""
        return cls(errors.status_of(code), str(code), errors.message_of(code, **values))


def _url_map():
    api = [
        ("/files", "POST", "files.upload"),
        ("/files/<file_id>/content", "GET", "files.content"),
        ("/files/<file_id>", "DELETE", "files.delete"),
        ("/voice/clone", "POST", "voice.clone"),
        ("/voice/list", "GET", "voice.list"),
        ("/voice/delete", "POST", "voice.delete"),
        ("/audio/speech", "POST", "audio.speech"),
        ("/audio/transcriptions", "POST", "audio.transcriptions"),
    ]
    rules = [Rule(API + path, methods=[method], endpoint=name) for path, method, name in api]
    rules.append(Rule("/download/<file_id>", methods=["GET"], endpoint="download"))
    rules.append(Rule("/samples/<voice_id>.wav", methods=["GET"], endpoint="sample"))
    for name, methods in [
        ("calls", ["GET"]),
        ("faults", ["GET", "POST", "DELETE"]),
        ("reset", ["POST"]),
        ("voices", ["GET"]),
    ]:
        rules.append(Rule(f"/_sandbox/{name}", methods=methods, endpoint=f"control.{name}"))
    return Map(rules)


def error_response(status, code, message, retry_after=None):
    response = json_response({"error": {"code": str(code), "message": message}}, status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def json_response(body, status=200):
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


def sniff_extension(data):
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _counter(route):
    """The attribute counting calls in flight for a route's model: recognition apart from the rest."""
    return "in_flight_asr" if route == "audio.transcriptions" else "in_flight"


class SandboxApp:
    def __init__(
        self,
        data_dir,
        api_key="sandbox",
        latency=0.0,
        faults=None,
        max_concurrency=0,
        first_chunk_latency=0.0,
        stream_pace=0.0,
        file_content="batch",
    ):
        self.store = Store(data_dir)
        self.api_key = api_key
        self.latency = latency
        self.faults = Faults(faults)
        self.max_concurrency = max_concurrency
        # Streaming: seconds before the first chunk, and how many seconds of audio go out per second
        # (0: as fast as it is made).
        self.first_chunk_latency = first_chunk_latency
        self.stream_pace = stream_pace
        # "batch": file content serves batch files only, as documented; "all": every file, for testing
        # an app against a service more lenient than its documentation.
        if file_content not in ("batch", "all"):
            raise ValueError("file_content is 'batch' or 'all'")
        self.file_content = file_content
        self.url_map = _url_map()
        self.calls = []
        self.calls_lock = threading.Lock()
        self.in_flight = 0
        self.in_flight_asr = 0
        self.f0_cache = {}
        self.ear = hearing.Ear(self.store.root / "heard")
        self.spoken_texts = set()  # for mispeak rules limited to a text's first take

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except HTTPException:
            # The error table lists 1222 (no such API) under HTTP 400, for a wrong method too.
            error = ApiError.documented("1222", API_name=request.path)
            response = error_response(error.status, error.code, error.message)
        else:
            if endpoint.startswith("control."):
                response = getattr(self, "control_" + endpoint.split(".", 1)[1])(request)
            else:
                response = self.handle_api(request, endpoint, args)
        return response(environ, start_response)

    # -- API calls: record, inject faults, enforce auth and concurrency, then do the work ------

    def handle_api(self, request, route, args):
        record = {
            "route": route,
            "method": request.method,
            "status": None,
            "code": None,
            "at": time.time(),
            "authorized": "Authorization" in request.headers,
        }
        with self.calls_lock:
            self.calls.append(record)
            # The real service limits calls in flight per account and model (speech recognition has a limit
            # of its own); latency counts as in flight.
            counter = _counter(route)
            if self.max_concurrency and getattr(self, counter) >= self.max_concurrency:
                record.update(status=429, code="1302")
                return error_response(429, "1302", errors.message_of("1302"))
            setattr(self, counter, getattr(self, counter) + 1)
        streaming = False
        try:
            response = self._handle(request, route, args, record)
            if response.is_streamed:
                # A stream stays in flight until its last chunk is sent or the client goes away.
                response.response = self._released_at_end(response.response, record)
                streaming = True
            return response
        finally:
            if not streaming:
                self._release(record)

    def _release(self, record):
        with self.calls_lock:
            counter = _counter(record["route"])
            setattr(self, counter, getattr(self, counter) - 1)

    def _released_at_end(self, chunks, record):
        record["stream"] = {"chunks": 0, "complete": False, "first_chunk_at": None}
        try:
            for chunk in chunks:
                if record["stream"]["first_chunk_at"] is None:
                    record["stream"]["first_chunk_at"] = time.time()
                yield chunk
                record["stream"]["chunks"] += 1
            record["stream"]["complete"] = "broken" not in record["stream"]
        finally:
            # Werkzeug closes the generator when the client disconnects: the "provider" stops speaking.
            chunks.close()
            record["finished_at"] = time.time()
            self._release(record)

    def _handle(self, request, route, args, record):
        # A call takes `latency` seconds in all, its own work included: the provider's time per call is
        # what a benchmark sets, and the stand-in's synthesis and recognition (tens of milliseconds of
        # CPU on the machine under test) must not come on top of it.
        started = time.monotonic()
        try:
            return self._answer(request, route, args, record)
        finally:
            rest = self.latency - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)

    def _answer(self, request, route, args, record):
        rule = self.faults.take(route)
        if rule and rule["latency"]:
            time.sleep(rule["latency"])
        action = rule["action"] if rule else None
        if action == "drop":
            return self._drop(request)
        if action == "error":
            return self._injected_error(request, route, rule, record)
        if action == "malformed":
            record["status"] = 200
            return Response('{"id": "1768118482370-', status=200, content_type="application/json")
        if action == "error_body":
            code = str(rule.get("code", "1214"))
            status = rule.get("status", 200)
            record.update(status=status, code=code)
            message = rule.get("message") or errors.message_of(code, **self._placeholders(request))
            return error_response(status, code, message)

        request.fault = rule or {}  # what the route handler may act on (mispeak, first-chunk latency)
        request.record = record
        try:
            if route not in ("download", "sample"):
                self._authenticate(request)
            response = getattr(self, "api_" + route.replace(".", "_"))(request, **args)
        except ApiError as exc:
            record["code"] = exc.code
            response = error_response(exc.status, exc.code, exc.message)
        if rule and rule.get("after_latency"):
            time.sleep(rule["after_latency"])  # the work is done, the answer is late
        if action == "drop_after":
            return self._drop(request)
        if action == "missing_field" and response.status_code == 200 and response.mimetype == "application/json":
            response = self._without_field(response, rule.get("field") or FIRST_FIELD.get(route))
        record["status"] = response.status_code
        return response

    def _injected_error(self, request, route, rule, record):
        code = rule.get("code")
        status = rule.get("status") or (errors.status_of(code) if code else None) or 500
        record.update(status=status, code=code)
        if not code:
            if route == "download":
                # A signed download URL is served by object storage, which answers in XML.
                name = {401: "AccessDenied", 403: "AccessDenied", 404: "NoSuchKey"}.get(status, "InternalError")
                body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{name}</Code></Error>'
                return Response(body, status=status, content_type="application/xml")
            # What a gateway in front of the service sends: an HTML page, no error body.
            return Response(
                f"<html><body><h1>{status} Error</h1></body></html>", status=status, content_type="text/html"
            )
        message = rule.get("message") or errors.message_of(code, **self._placeholders(request))
        return error_response(status, code, message, rule.get("retry_after"))

    @staticmethod
    def _placeholders(request):
        return {
            "API_name": request.path,
            "field": "input",
            "field1": "input",
            "field2": "file_id",
            "method": "stream",
            "request_id": f"sandbox-{time.time_ns()}",
            "error_id": uuid.uuid4().hex[:16],
            "model_name": "glm-tts",
            "number": "5",
            "unit": "小时",
            "next_flush_time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() + 3600)),
        }

    @staticmethod
    def _without_field(response, field):
        body = json.loads(response.get_data(as_text=True))
        body.pop(field, None)
        for item in body.get("voice_list", []):
            item.pop(field, None)
        return json_response(body, response.status_code)

    def _drop(self, request):
        # Close the TCP connection with no answer at all; Werkzeug takes the broken pipe quietly.
        connection = request.environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return Response(b"", status=200)

    def _authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            raise ApiError.documented("1001")
        if header != f"Bearer {self.api_key}":
            raise ApiError.documented("1002")

    # -- the routes -----------------------------------------------------------------------

    def api_files_upload(self, request):
        if (request.content_length or 0) > MAX_FILE_API_BYTES:
            # The file API's documented status for a file over 100 MB; the body is not read.
            raise ApiError.documented("435")
        upload = request.files.get("file")
        purpose = request.form.get("purpose")
        if upload is None or not purpose:
            raise ApiError(400, "1213", errors.message_of("1213", field="file" if upload is None else "purpose"))
        if purpose == "batch":
            # Batch input (JSONL) is stored as is: it is the one kind of file whose content can be read back.
            data = upload.read()
            record = self.store.add_file(
                data, filename=upload.filename or "batch.jsonl", purpose=purpose, extension="jsonl"
            )
            return json_response(self._public_file(record))
        if purpose != "voice-clone-input":
            raise ApiError(400, "1214", f"purpose 参数非法: {purpose}")
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            # uncertain: the clone's 10 MB limit has no documented error; a parameter error on `file`.
            raise ApiError(400, "1214", "file 参数非法：音色复刻的音频文件不能超过 10MB")
        extension = sniff_extension(data)
        if not data or extension is None:
            raise ApiError(400, "1214", "文件格式不支持，仅支持 mp3 和 wav")
        record = self.store.add_file(
            data, filename=upload.filename or f"upload.{extension}", purpose=purpose, extension=extension
        )
        return json_response(self._public_file(record))

    @staticmethod
    def _public_file(record):
        return {key: record[key] for key in ("id", "object", "bytes", "created_at", "filename", "purpose")}

    def api_files_content(self, request, file_id):
        record = self.store.get_file(file_id)
        if record is None:
            # uncertain: an unknown file id has no documented error; a parameter error on `file_id`.
            raise ApiError(400, "1214", f"file_id 参数非法: {file_id}")
        if record["purpose"] != "batch" and self.file_content == "batch":
            # The reference: "获取文件内容。只支持 batch 文件类型。" (uncertain: the refusal's code and status
            # are not documented; a parameter error on `file_id`, which clients treat as permanent).
            raise ApiError(
                400, "1214", f"file_id 参数非法：文件内容只支持 batch 文件类型，此文件用途为 {record['purpose']}"
            )
        if record["purpose"] == "batch":
            return Response(self.store.file_bytes(file_id), content_type="application/octet-stream")
        return self._audio_file(file_id)

    def api_files_delete(self, request, file_id):
        if self.store.delete_file(file_id) is None:
            raise ApiError(400, "1214", f"file_id 参数非法: {file_id}")
        return json_response({"id": file_id, "object": "file", "deleted": True})

    def _audio_file(self, file_id):
        data = self.store.file_bytes(file_id)
        content_type = "audio/wav" if file_id.endswith(".wav") else "audio/mpeg"
        return Response(data, content_type=content_type)

    def api_voice_clone(self, request):
        body = self._json(request)
        self._require(body, "model", "voice_name", "input", "file_id")
        if body["model"] not in CLONE_MODELS:
            raise ApiError(400, "1211", f"模型不存在: {body['model']}")
        text = str(body["input"])
        if len(text) > MAX_INPUT_CHARS:
            raise ApiError(400, "1261", "input 过长")
        sample = self.store.get_file(body["file_id"])
        if sample is None or sample["purpose"] != "voice-clone-input":
            raise ApiError(400, "1214", f"file_id 不存在或用途不符: {body['file_id']}")
        # uncertain: the real error for a taken name is undocumented; a parameter error here.
        if self.store.voice_named(body["voice_name"]):
            raise ApiError(400, "1214", f"音色名称已存在: {body['voice_name']}")
        request_id = self._request_id(body)

        f0 = self._sample_f0(self.store.file_bytes(body["file_id"]))
        # uncertain: whether the preview carries the audible watermark; it is generated speech, so it does.
        speech = voice.speak(text, f0=f0, units=self._spoken_units(request, text), watermark=True)
        preview = self._remember(speech)
        with self.store.lock:
            if self.store.voice_named(body["voice_name"]):
                raise ApiError(400, "1214", f"音色名称已存在: {body['voice_name']}")
            record = self.store.add_file(preview, filename="preview.wav", purpose="voice-clone-output", extension="wav")
            created = self.store.add_voice(
                voice_name=body["voice_name"], f0=f0, preview_file_id=record["id"], model=body["model"]
            )
        return json_response(
            {
                "voice": created["voice"],
                "file_id": record["id"],
                "file_purpose": "voice-clone-output",
                "request_id": request_id,
            }
        )

    def _sample_f0(self, data):
        # The pitch of a sample is analysed once: load tests clone the same sample many times.
        key = hashlib.sha256(data).hexdigest()
        if key not in self.f0_cache:
            self.f0_cache[key] = voice.estimate_f0(voice.decode(data)) or 120.0
        return self.f0_cache[key]

    def _spoken_units(self, request, text):
        """The units the audio will say: the text's, or with a mistake when a `mispeak` fault applies."""
        units = voice.split_units(text)
        fault = request.fault
        with self.calls_lock:
            first_take = text not in self.spoken_texts
            self.spoken_texts.add(text)
        if fault.get("action") == "mispeak" and (first_take or not fault.get("first_takes_only")):
            units = voice.mispeak(units, fault["mispeak"], fault["rng"])
        return units

    def _remember(self, speech):
        """The WAV of `speech`, remembered so that transcription gives back what it says."""
        wav = voice.to_wav(speech.samples)
        self.store.remember_text(hashlib.sha256(wav).hexdigest(), speech.text)
        # Resampled here rather than decoded from the WAV: the envelope cannot tell, and it is ten times faster.
        self.ear.remember(speech, voice._resample(speech.samples, voice.OUTPUT_RATE, hearing.RATE))
        return wav

    def _request_id(self, body):
        request_id = body.get("request_id")
        if request_id is None:
            return f"sandbox-{time.time_ns()}"
        if not isinstance(request_id, str) or not 6 <= len(request_id) <= 64:
            raise ApiError(400, "1214", "request_id 长度应为 6 到 64 个字符")
        if not self.store.use_request_id(request_id):
            raise ApiError.documented("1231", request_id=request_id)
        return request_id

    def api_voice_list(self, request):
        voice_type = request.args.get("voiceType")
        name = request.args.get("voiceName", "")
        if voice_type not in (None, "", "PRIVATE", "OFFICIAL"):
            raise ApiError(400, "1214", f"voiceType 参数非法: {voice_type}")
        root = request.host_url.rstrip("/")
        listed = []
        if voice_type in (None, "", "OFFICIAL"):
            listed += [
                {
                    "voice": voice_id,
                    "voice_name": SYSTEM_VOICE_NAMES[voice_id],
                    "voice_type": "OFFICIAL",
                    # uncertain: an official voice's download_url is undocumented; here a sample of it.
                    "download_url": f"{root}/samples/{voice_id}.wav",
                    "create_time": "2025-01-01 00:00:00",
                }
                for voice_id in SYSTEM_VOICES
            ]
        if voice_type in (None, "", "PRIVATE"):
            listed += [
                {
                    "voice": v["voice"],
                    "voice_name": v["voice_name"],
                    "voice_type": "PRIVATE",
                    "download_url": f"{root}/download/{v['preview_file_id']}?token={v['download_token']}",
                    "create_time": v["create_time"],
                }
                for v in self.store.voices()
            ]
        return json_response({"voice_list": [v for v in listed if name in v["voice_name"]]})

    def api_download(self, request, file_id):
        token = request.args.get("token", "")
        if not any(v["preview_file_id"] == file_id and v["download_token"] == token for v in self.store.voices()):
            return Response("Forbidden", status=403)
        return self._audio_file(file_id)

    def api_sample(self, request, voice_id):
        if voice_id not in SYSTEM_VOICES:
            return Response("Not Found", status=404)
        speech = voice.speak(SYSTEM_VOICE_SAMPLE, f0=SYSTEM_VOICES[voice_id], watermark=True)
        return Response(self._remember(speech), content_type="audio/wav")

    def api_voice_delete(self, request):
        body = self._json(request)
        self._require(body, "voice")
        if self.store.delete_voice(body["voice"]) is None:
            raise ApiError(400, "1214", f"音色不存在: {body['voice']}")
        return json_response({"voice": body["voice"], "update_time": timestamp()})

    def api_audio_speech(self, request):
        body = self._json(request)
        self._require(body, "model", "input", "voice")
        if body["model"] not in SPEECH_MODELS:
            raise ApiError(400, "1211", f"模型不存在: {body['model']}")
        text = str(body["input"])
        if len(text) > MAX_INPUT_CHARS:
            raise ApiError(400, "1261", f"input 长度不能超过 {MAX_INPUT_CHARS} 个字符")
        speed = self._number(body, "speed", 1.0, lambda v: 0.5 <= v <= 2.0, "speed 取值范围为 [0.5, 2]")
        volume = self._number(body, "volume", 1.0, lambda v: 0 < v <= 10, "volume 取值范围为 (0, 10]")
        # The official SDK sends null for every option it was not given: null means the default.
        response_format = body.get("response_format") or "pcm"
        if response_format not in ("wav", "pcm"):
            raise ApiError(400, "1214", f"response_format 参数非法: {response_format}")
        stream = body.get("stream") or False
        if not isinstance(stream, bool):
            raise ApiError(400, "1214", "stream 参数非法")
        if stream and response_format != "pcm":
            raise ApiError(400, "1214", "流式输出仅支持 pcm")
        encode_format = body.get("encode_format") or "base64"
        if encode_format not in ("base64", "hex"):
            raise ApiError(400, "1214", f"encode_format 参数非法: {encode_format}")
        # "true: 默认启用AI生成的显式水印及隐式数字水印"; false only for accounts that removed watermarks.
        watermark = body.get("watermark_enabled")
        if watermark is None:
            watermark = True
        if not isinstance(watermark, bool):
            raise ApiError(400, "1214", "watermark_enabled 参数非法")
        if body["voice"] in SYSTEM_VOICES:
            f0 = SYSTEM_VOICES[body["voice"]]
        elif (cloned := self.store.get_voice(body["voice"])) is not None:
            f0 = cloned["f0"]
        else:
            raise ApiError(400, "1214", f"音色不存在: {body['voice']}")
        request_id = body.get("request_id") or f"sandbox-{time.time_ns()}"

        units = self._spoken_units(request, text)
        if stream:
            chunks = self._sse(
                request,
                units,
                dict(f0=f0, speed=speed, volume=volume),
                watermark=watermark,
                encode=(lambda pcm: base64.b64encode(pcm).decode()) if encode_format == "base64" else bytes.hex,
                request_id=request_id,
            )
            return Response(chunks, content_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        speech = voice.speak(text, f0=f0, speed=speed, volume=volume, units=units, watermark=watermark)
        wav = self._remember(speech)
        if response_format == "pcm":
            return Response(voice.to_pcm(speech.samples), content_type="audio/pcm")
        return Response(wav, content_type="audio/wav")

    def _sse(self, request, units, options, *, watermark, encode, request_id):
        """Server-sent events as the SDK's AudioSpeechChunk reads them, made and sent unit by unit.

        Each event: {"id", "created", "request_id", "model", "choices": [{"index": 0, "finish_reason":
        null, "delta": {"role": "assistant", "content": <PCM, base64 or hex>, "return_sample_rate":
        24000}}]}. The last event has empty content and "finish_reason": "stop", then "data: [DONE]"
        (uncertain: the docs show no stream's end; this is how the platform's chat streams end and
        what the SDK stops on). The faults "stream_error" and "stream_drop" break the stream after
        "after_chunks" chunks: with an event {"error": {"code", "message"}, "request_id"} (what the SDK
        raises APIResponseError on) and no [DONE], or by closing the connection.
        """
        fault = request.fault
        first_chunk_latency = fault.get("first_chunk_latency", self.first_chunk_latency)
        break_after = fault.get("after_chunks", 1) if fault.get("action") in ("stream_error", "stream_drop") else None
        created = int(time.time())
        chunk_bytes = int(STREAM_CHUNK_SECONDS * voice.OUTPUT_RATE) * 2
        stream_id = f"sandbox-{uuid.uuid4().hex}"

        def event(content, finish_reason=None):
            chunk = {
                "id": stream_id,
                "created": created,
                "request_id": request_id,
                "model": "glm-tts",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": finish_reason,
                        "delta": {"role": "assistant", "content": content, "return_sample_rate": voice.OUTPUT_RATE},
                    }
                ],
            }
            return f"data: {json.dumps(chunk)}\n\n"

        started = time.monotonic()
        if first_chunk_latency:
            time.sleep(first_chunk_latency)
        sent_seconds, sent_chunks = 0.0, 0
        pending = b""
        parts = [voice.watermark_prefix()] if watermark else []
        made = iter(voice.iter_speech(units, **options))
        if parts:
            pending = voice.to_pcm(parts[0])
        while True:
            samples, _ = next(made, (None, None))
            if samples is not None:
                parts.append(samples)
                pending += voice.to_pcm(samples)
            while len(pending) >= chunk_bytes or (samples is None and pending):
                piece, pending = pending[:chunk_bytes], pending[chunk_bytes:]
                if self.stream_pace:
                    # Paced: never ahead of `stream_pace` seconds of audio per second since the first chunk.
                    wait = started + first_chunk_latency + sent_seconds / self.stream_pace - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                if break_after is not None and sent_chunks >= break_after:
                    yield from self._broken_stream(request, fault, request_id)
                    return
                yield event(encode(piece))
                sent_chunks += 1
                sent_seconds += len(piece) / 2 / voice.OUTPUT_RATE
            if samples is None:
                break
        # Remembered before the end is sent: a client may transcribe what it got the moment it ends.
        speech = voice.Speech(
            np.concatenate(parts).astype(np.float32), units, len(parts[0]) / voice.OUTPUT_RATE if watermark else 0.0
        )
        self._remember(speech)
        yield event("", "stop")
        yield "data: [DONE]\n\n"

    def _broken_stream(self, request, fault, request_id):
        request.record["stream"]["broken"] = fault["action"]
        if fault["action"] == "stream_drop":
            self._drop(request)
            return
        code = str(fault.get("code", "1234"))
        message = fault.get("message") or errors.message_of(code, **self._placeholders(request))
        yield f"data: {json.dumps({'error': {'code': code, 'message': message}, 'request_id': request_id})}\n\n"

    def api_audio_transcriptions(self, request):
        if (request.content_length or 0) > MAX_TRANSCRIBE_BYTES + 64 * 1024:
            raise ApiError(400, "1214", "file 参数非法：文件大小超过限制（25MB）")
        upload = request.files.get("file")
        model = request.form.get("model")
        if upload is None or not model:
            raise ApiError(400, "1213", errors.message_of("1213", field="file" if upload is None else "model"))
        if model != ASR_MODEL:
            raise ApiError(400, "1211", f"模型不存在: {model}")
        data = upload.read(MAX_TRANSCRIBE_BYTES + 1)
        if len(data) > MAX_TRANSCRIBE_BYTES:
            raise ApiError(400, "1214", "file 参数非法：文件大小超过限制（25MB）")
        if sniff_extension(data) is None:
            raise ApiError(400, "1214", "file 参数非法：仅支持 wav 和 mp3")
        # See sandbox/hearing.py: the sandbox recognises its own speech and nothing else. Its own WAV, sent
        # back as it was, is known by its digest and measured by its header: decoding and resampling it
        # first was three quarters of the sandbox's CPU while the studio's checks ran (bench/README.md).
        text = self.store.text_for(hashlib.sha256(data).hexdigest())
        seconds = voice.wav_seconds(data) if text is not None else None
        samples = None
        if seconds is None:
            try:
                samples = voice.decode(data)
            except Exception as exc:
                raise ApiError(400, "1214", "file 参数非法：音频文件无法解析") from exc
            seconds = len(samples) / 16000
        if seconds > 30:
            raise ApiError(400, "1214", "file 参数非法：音频时长不能超过 30 秒")
        if text is None:
            text = self.ear.hear(samples)
        if text is None:
            text = "" if hearing.is_silent(samples) else hearing.FOREIGN_TRANSCRIPT
        return json_response(
            {
                "id": f"asr-{time.time_ns()}",
                "created": int(time.time()),
                "request_id": request.form.get("request_id") or f"sandbox-{time.time_ns()}",
                "model": model,
                "text": text,
            }
        )

    # -- request helpers ------------------------------------------------------------------

    @staticmethod
    def _json(request):
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError as exc:
            raise ApiError(400, "1210", "请求体不是合法的 JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "1210", "请求体不是合法的 JSON 对象")
        return body

    @staticmethod
    def _require(body, *fields):
        missing = [field for field in fields if body.get(field) in (None, "")]
        if missing:
            raise ApiError(400, "1213", errors.message_of("1213", field=", ".join(missing)))

    @staticmethod
    def _number(body, field, default, valid, message):
        value = body.get(field)
        if value is None:
            value = default
        if isinstance(value, bool) or not isinstance(value, int | float) or not valid(value):
            raise ApiError(400, "1214", message)
        return float(value)

    # -- controls for tests and operators -------------------------------------------------

    def control_calls(self, request):
        route = request.args.get("route")
        with self.calls_lock:
            calls = [dict(c) for c in self.calls if route in (None, c["route"])]
        return json_response({"calls": calls})

    def control_faults(self, request):
        if request.method == "POST":
            try:
                self.faults.replace(json.loads(request.get_data(as_text=True))["rules"])
            except (ValueError, KeyError, TypeError) as exc:
                return json_response({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            self.faults.replace([])
        return json_response({"rules": self.faults.listing()})

    def control_reset(self, request):
        self.store.reset()
        self.faults.replace([])
        with self.calls_lock:
            self.calls.clear()
            self.spoken_texts.clear()
        self.ear.forget()
        return json_response({"ok": True})

    def control_voices(self, request):
        return json_response({"voices": self.store.voices()})


def create_app(data_dir, **options):
    """The sandbox app; options as `SandboxApp` takes them (api_key, latency, faults, max_concurrency,
    first_chunk_latency, stream_pace, file_content)."""
    return SandboxApp(data_dir, **options)
