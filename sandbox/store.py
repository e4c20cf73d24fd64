"""The sandbox's account state: files and voices, kept on disk so they survive a restart."""

import json
import os
import threading
import time
import uuid
from pathlib import Path


def new_file_id(extension):
    # The shape of an observed real id: "1768118482370-806700eb9d324ef89bae53574e1afd0c.wav".
    return f"{int(time.time() * 1000)}-{uuid.uuid4().hex}.{extension}"


def new_voice_id():
    return str(uuid.uuid4())


def timestamp():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


class Store:
    def __init__(self, data_dir):
        self.root = Path(data_dir)
        self.files_dir = self.root / "files"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.index_path = self.root / "state.json"
        self.lock = threading.RLock()
        self.state = self._load()

    def _load(self):
        if self.index_path.exists():
            return json.loads(self.index_path.read_text())
        return {"files": {}, "voices": {}, "request_ids": [], "texts": {}}

    def _save(self):
        # Write then rename: a crash mid-write never leaves a half-written index.
        tmp = self.index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state))
        os.replace(tmp, self.index_path)

    def reset(self):
        with self.lock:
            for path in self.files_dir.iterdir():
                path.unlink()
            self.state = {"files": {}, "voices": {}, "request_ids": [], "texts": {}}
            self._save()

    # files
    def add_file(self, data, *, filename, purpose, extension, meta=None):
        with self.lock:
            file_id = new_file_id(extension)
            (self.files_dir / file_id).write_bytes(data)
            record = {
                "id": file_id,
                "object": "file",
                "bytes": len(data),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                **(meta or {}),
            }
            self.state["files"][file_id] = record
            self._save()
            return record

    def get_file(self, file_id):
        with self.lock:
            return self.state["files"].get(file_id)

    def delete_file(self, file_id):
        with self.lock:
            record = self.state["files"].pop(file_id, None)
            if record is not None:
                (self.files_dir / file_id).unlink(missing_ok=True)
                self._save()
            return record

    def file_bytes(self, file_id):
        return (self.files_dir / file_id).read_bytes()

    # request ids: the real service rejects a reused one with 1231
    def use_request_id(self, request_id):
        with self.lock:
            if request_id in self.state["request_ids"]:
                return False
            self.state["request_ids"].append(request_id)
            self._save()
            return True

    # voices
    def add_voice(self, *, voice_name, f0, preview_file_id, model):
        with self.lock:
            voice = {
                "voice": new_voice_id(),
                "voice_name": voice_name,
                "voice_type": "PRIVATE",
                "create_time": timestamp(),
                "f0": f0,
                "preview_file_id": preview_file_id,
                "model": model,
                "download_token": uuid.uuid4().hex,
            }
            self.state["voices"][voice["voice"]] = voice
            self._save()
            return voice

    def voices(self):
        with self.lock:
            return list(self.state["voices"].values())

    def get_voice(self, voice_id):
        with self.lock:
            return self.state["voices"].get(voice_id)

    def voice_named(self, voice_name):
        with self.lock:
            return next((v for v in self.state["voices"].values() if v["voice_name"] == voice_name), None)

    def delete_voice(self, voice_id):
        with self.lock:
            voice = self.state["voices"].pop(voice_id, None)
            self._save()
            return voice

    # what each synthesized file says, so transcription can answer with it
    def remember_text(self, digest, text):
        with self.lock:
            self.state["texts"][digest] = text
            self._save()

    def text_for(self, digest):
        with self.lock:
            return self.state["texts"].get(digest)
