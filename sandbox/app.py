"""The sandbox's HTTP layer: BigModel's voice routes on a Werkzeug app, plus /_sandbox/ controls.

Behaviour follows shared/reference/bigmodel-notes.md. Where the notes say a point is uncertain
the choice made here is marked "uncertain" in a comment.
"""

import base64
import hashlib
import json
import socket
import threading
import time

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox import voice as audio
from sandbox.faults import Faults
from sandbox.store import Store, timestamp

API = "/api/paas/v4"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_TRANSCRIBE_BYTES = 25 * 1024 * 1024
MAX_INPUT_CHARS = 1024
CLONE_MODELS = {"glm-tts-clone", "cogtts-clone"}
SPEECH_MODELS = {"glm-tts", "cogtts"}
ASR_MODEL = "glm-asr-2512"
# The official voices, each given its own pitch so that they sound apart.
SYSTEM_VOICES = {"tongtong": 220, "chuichui": 260, "xiaochen": 200, "jam": 120, "kazi": 140, "douji": 100, "luodo": 160}
FALLBACK_TRANSCRIPT = "这是一段用于音色复刻的示例音频。"


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _url_map():
    api = [
        ("/files", "POST", "files.upload"),
        ("/files/<file_id>/content", "GET", "files.content"),
        ("/voice/clone", "POST", "voice.clone"),
        ("/voice/list", "GET", "voice.list"),
        ("/voice/delete", "POST", "voice.delete"),
        ("/audio/speech", "POST", "audio.speech"),
        ("/audio/transcriptions", "POST", "audio.transcriptions"),
    ]
    rules = [Rule(API + path, methods=[method], endpoint=name) for path, method, name in api]
    rules.append(Rule("/download/<file_id>", methods=["GET"], endpoint="download"))
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


class SandboxApp:
    def __init__(self, data_dir, api_key="sandbox", latency=0.0, faults=None, max_concurrency=0):
        self.store = Store(data_dir)
        self.api_key = api_key
        self.latency = latency
        self.faults = Faults(faults)
        self.max_concurrency = max_concurrency
        self.url_map = _url_map()
        self.calls = []
        self.calls_lock = threading.Lock()
        self.in_flight = 0
        self.f0_cache = {}

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except MethodNotAllowed:
            response = error_response(405, "1222", "Method not allowed for this API")
        except HTTPException:
            response = error_response(404, "1222", "No such API")
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
            # The real service limits calls in flight per account; latency counts as in flight.
            if self.max_concurrency and self.in_flight >= self.max_concurrency:
                record.update(status=429, code="1302")
                return error_response(429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。")
            self.in_flight += 1
        try:
            return self._handle(request, route, args, record)
        finally:
            with self.calls_lock:
                self.in_flight -= 1

    def _handle(self, request, route, args, record):
        if self.latency:
            time.sleep(self.latency)
        rule = self.faults.take(route)
        if rule and rule["latency"]:
            time.sleep(rule["latency"])
        action = rule["action"] if rule else None
        if action == "drop":
            return self._drop(request)
        if action == "error":
            status = rule.get("status", 500)
            record.update(status=status, code=rule.get("code"))
            if not rule.get("code"):
                # What a gateway in front of the service sends: an HTML page, no error body.
                return Response(
                    f"<html><body><h1>{status} Error</h1></body></html>", status=status, content_type="text/html"
                )
            return error_response(status, rule["code"], rule.get("message", "injected fault"), rule.get("retry_after"))
        if action == "malformed":
            record["status"] = 200
            return Response('{"id": "1768118482370-', status=200, content_type="application/json")

        try:
            if route != "download":
                self._authenticate(request)
            response = getattr(self, "api_" + route.replace(".", "_"))(request, **args)
        except ApiError as exc:
            record["code"] = exc.code
            response = error_response(exc.status, exc.code, exc.message)
        if rule and rule.get("after_latency"):
            time.sleep(rule["after_latency"])  # the work is done, the answer is late
        if action == "drop_after":
            return self._drop(request)
        record["status"] = response.status_code
        return response

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
            raise ApiError(401, "1001", "Header中未收到Authorization参数，无法进行身份验证。")
        if header != f"Bearer {self.api_key}":
            raise ApiError(401, "1002", "Authorization Token非法，请确认Authorization Token正确传递。")

    # -- the routes -----------------------------------------------------------------------

    def api_files_upload(self, request):
        if (request.content_length or 0) > MAX_UPLOAD_BYTES + 64 * 1024:
            # uncertain: the notes list 434/435 as file API errors; an oversized file gets 435.
            raise ApiError(435, "1214", "文件大小超过限制（10MB）")
        upload = request.files.get("file")
        purpose = request.form.get("purpose")
        if upload is None or not purpose:
            raise ApiError(400, "1213", "缺少必要参数 file 或 purpose")
        if purpose != "voice-clone-input":
            raise ApiError(400, "1214", f"purpose 参数非法: {purpose}")
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(435, "1214", "文件大小超过限制（10MB）")
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
            # uncertain: an unknown file id on the file API; answered as a file API error (434).
            raise ApiError(434, "1214", f"文件不存在: {file_id}")
        return self._audio_file(file_id)

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
        preview = audio.to_wav(audio.synthesize(text, f0=f0))
        with self.store.lock:
            if self.store.voice_named(body["voice_name"]):
                raise ApiError(400, "1214", f"音色名称已存在: {body['voice_name']}")
            record = self.store.add_file(preview, filename="preview.wav", purpose="voice-clone-output", extension="wav")
            self.store.remember_text(hashlib.sha256(preview).hexdigest(), text)
            voice = self.store.add_voice(
                voice_name=body["voice_name"], f0=f0, preview_file_id=record["id"], model=body["model"]
            )
        return json_response(
            {
                "voice": voice["voice"],
                "file_id": record["id"],
                "file_purpose": "voice-clone-output",
                "request_id": request_id,
            }
        )

    def _sample_f0(self, data):
        # The pitch of a sample is analysed once: load tests clone the same sample many times.
        key = hashlib.sha256(data).hexdigest()
        if key not in self.f0_cache:
            self.f0_cache[key] = audio.estimate_f0(audio.decode(data)) or 120.0
        return self.f0_cache[key]

    def _request_id(self, body):
        request_id = body.get("request_id")
        if request_id is None:
            return f"sandbox-{time.time_ns()}"
        if not isinstance(request_id, str) or not 6 <= len(request_id) <= 64:
            raise ApiError(400, "1214", "request_id 长度应为 6 到 64 个字符")
        if not self.store.use_request_id(request_id):
            raise ApiError(400, "1231", f"request_id 重复: {request_id}")
        return request_id

    def api_voice_list(self, request):
        voice_type = request.args.get("voiceType")
        name = request.args.get("voiceName", "")
        if voice_type not in (None, "", "PRIVATE", "OFFICIAL"):
            raise ApiError(400, "1214", f"voiceType 参数非法: {voice_type}")
        listed = []
        if voice_type in (None, "", "OFFICIAL"):
            listed += [
                {
                    "voice": v,
                    "voice_name": v,
                    "voice_type": "OFFICIAL",
                    "download_url": "",
                    "create_time": "2025-01-01 00:00:00",
                }
                for v in SYSTEM_VOICES
            ]
        if voice_type in (None, "", "PRIVATE"):
            root = request.host_url.rstrip("/")
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
        response_format = body.get("response_format", "pcm")
        if response_format not in ("wav", "pcm"):
            raise ApiError(400, "1214", f"response_format 参数非法: {response_format}")
        stream = bool(body.get("stream", False))
        if stream and response_format != "pcm":
            raise ApiError(400, "1214", "流式输出仅支持 pcm")
        if body["voice"] in SYSTEM_VOICES:
            f0 = SYSTEM_VOICES[body["voice"]]
        elif (cloned := self.store.get_voice(body["voice"])) is not None:
            f0 = cloned["f0"]
        else:
            raise ApiError(400, "1214", f"音色不存在: {body['voice']}")

        samples = audio.synthesize(text, f0=f0, speed=speed, volume=volume)
        if stream:
            return Response(self._sse(audio.to_pcm(samples)), content_type="text/event-stream")
        if response_format == "pcm":
            return Response(audio.to_pcm(samples), content_type="audio/pcm")
        wav = audio.to_wav(samples)
        self.store.remember_text(hashlib.sha256(wav).hexdigest(), text)
        return Response(wav, content_type="audio/wav")

    @staticmethod
    def _sse(pcm, chunk=9600):
        for start in range(0, len(pcm), chunk):
            content = base64.b64encode(pcm[start : start + chunk]).decode()
            yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': content}}]})}\n\n"
        yield "data: [DONE]\n\n"

    def api_audio_transcriptions(self, request):
        if (request.content_length or 0) > MAX_TRANSCRIBE_BYTES + 64 * 1024:
            raise ApiError(400, "1214", "文件大小超过限制（25MB）")
        upload = request.files.get("file")
        model = request.form.get("model")
        if upload is None or not model:
            raise ApiError(400, "1213", "缺少必要参数 file 或 model")
        if model != ASR_MODEL:
            raise ApiError(400, "1211", f"模型不存在: {model}")
        data = upload.read(MAX_TRANSCRIBE_BYTES + 1)
        if len(data) > MAX_TRANSCRIBE_BYTES or sniff_extension(data) is None:
            raise ApiError(400, "1214", "文件格式不支持或超过 25MB，仅支持 wav 和 mp3")
        try:
            seconds = len(audio.decode(data)) / 16000
        except Exception as exc:
            raise ApiError(400, "1214", "音频文件无法解析") from exc
        if seconds > 30:
            raise ApiError(400, "1214", "音频时长不能超过 30 秒")
        text = self.store.text_for(hashlib.sha256(data).hexdigest()) or FALLBACK_TRANSCRIPT
        return json_response(
            {
                "id": f"asr-{time.time_ns()}",
                "created": int(time.time()),
                "request_id": f"sandbox-{time.time_ns()}",
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
            raise ApiError(400, "1213", f"缺少必要字段: {', '.join(missing)}")

    @staticmethod
    def _number(body, field, default, valid, message):
        value = body.get(field, default)
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
        return json_response({"ok": True})

    def control_voices(self, request):
        return json_response({"voices": self.store.voices()})


def create_app(data_dir, api_key="sandbox", latency=0.0, faults=None, max_concurrency=0):
    return SandboxApp(data_dir, api_key=api_key, latency=latency, faults=faults, max_concurrency=max_concurrency)
