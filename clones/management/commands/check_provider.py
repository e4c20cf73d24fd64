"""Check the configured BigModel account: what works, what does not, and what the docs leave open.

Run it once after setting BIGMODEL_API_KEY (README, "Checking the provider"). Without --spend it only
makes calls that cost nothing: the voice list, and requests the provider must refuse (an unknown file
or voice) to learn whether the models exist and the account may use them. With --spend it clones the
bundled 5 s sample once, fetches the preview by every route, speaks one sentence and deletes the voice.
"""

import io
import time
import uuid
import wave
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import billing
from clones import bigmodel, system_voices, watermark
from clones.pipeline import provider_client

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "check_provider_sample.wav"
SAMPLE_TRANSCRIPT = "这是一段五秒钟的示例音频，用来检查语音服务。"
SENTENCE = "你好，这是语音服务的自检。"


def _samples(data):
    with wave.open(io.BytesIO(data)) as audio:
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2"), audio.getframerate()


def _tone(data):
    """ "present", "absent" or why it cannot be told (MP3, unreadable)."""
    if data[:4] != b"RIFF":
        return "unknown (not WAV)"
    try:
        samples, rate = _samples(data)
    except (wave.Error, EOFError):
        return "unknown (unreadable WAV)"
    return "present" if watermark.has_leading_tone(samples, rate) else "absent"


class Command(BaseCommand):
    help = "Check the BigModel account and API: key, models, preview routes, download_url, watermark."

    def add_arguments(self, parser):
        parser.add_argument(
            "--spend", action="store_true", help="Make one real clone (billed), speak one sentence, delete it."
        )

    def handle(self, *args, spend=False, **options):
        self.failures = 0
        self.client = provider_client()
        # Its paid calls (with --spend) are the site's own: metered with no user.
        with self.client, billing(None, "check_provider"):
            self.line(
                "info", "base URL", settings.BIGMODEL_BASE_URL + (" (sandbox)" if settings.BIGMODEL_SANDBOX else "")
            )
            official = self.check_key()
            if official is None:
                raise CommandError("The key was refused; nothing else can be checked.")
            self.check_models()
            self.check_official_sample(official)
            if spend:
                self.spend()
            else:
                self.line("info", "preview route", "run with --spend to find out (one billed clone)")
        if self.failures:
            raise CommandError(f"{self.failures} check(s) failed: send this output to the maintainers.")

    def line(self, outcome, what, detail):
        style = {"ok": self.style.SUCCESS, "fail": self.style.ERROR, "info": lambda text: text}[outcome]
        self.stdout.write(style(f"{outcome.upper():<5} {what:<28} {detail}"))
        self.failures += outcome == "fail"

    def check_key(self):
        try:
            voices = self.client.list_voices(voice_type="OFFICIAL")
        except bigmodel.BigModelError as exc:
            self.line("fail", "key accepted", f"{type(exc).__name__}: {exc}")
            return None
        self.line("ok", "key accepted", f"{len(voices)} system voices listed")
        system_voices.refresh(self.client)  # the speech form offers them from now on
        return voices

    def check_models(self):
        """Each call names a file or voice that cannot exist, so the provider must refuse it; how it
        refuses tells whether the model exists (1211), whether the account may use the API (1220)."""
        probes = [
            (
                "clone model " + settings.BIGMODEL_CLONE_MODEL,
                lambda: self.client.clone_voice(
                    voice_name=f"vc_check_{uuid.uuid4().hex[:12]}",
                    input=SENTENCE,
                    file_id="check-provider-no-such-file",
                    model=settings.BIGMODEL_CLONE_MODEL,
                ),
            ),
            (
                "speech model " + settings.BIGMODEL_TTS_MODEL,
                lambda: self.client.speech(
                    input=SENTENCE, voice="check-provider-no-such-voice", model=settings.BIGMODEL_TTS_MODEL
                ),
            ),
        ]
        for what, call in probes:
            try:
                call()
            except (bigmodel.AuthenticationFailed, bigmodel.AccountProblem, bigmodel.QuotaExhausted) as exc:
                self.line("fail", what, f"the account may not use it: {exc}")
            except bigmodel.InvalidRequest as exc:
                if exc.code in ("1211", "1221", "1222"):
                    self.line("fail", what, f"not available: {exc}")
                else:
                    # Unless the provider checks the file or voice before the model: --spend settles it.
                    self.line("ok", what, f"reachable (refused the dummy request as expected: {exc.code})")
            except bigmodel.BigModelError as exc:
                self.line("fail", what, f"{type(exc).__name__}: {exc}")
            else:
                self.line("info", what, "reachable (the dummy request was accepted?)")

    def check_official_sample(self, official):
        """A system voice's download_url, when the list gives one: free audio to look for the tone in."""
        listed = next((voice for voice in official if voice.download_url), None)
        if listed is None:
            self.line("info", "watermark tone", "no system voice sample to look at; run with --spend")
            return
        try:
            data = self.client.download(listed.download_url)
        except bigmodel.BigModelError as exc:
            self.line("info", "system voice sample", f"not downloadable without the key: {exc}")
            return
        self.line("info", "watermark tone", f"{_tone(data)} in the sample of system voice {listed.voice}")

    # -- --spend: one real clone, from upload to deletion ---------------------------------------

    def step(self, what, call):
        calls, started = self.client.calls, time.monotonic()
        try:
            result = call()
        except bigmodel.BigModelError as exc:
            self.line("fail", what, f"{type(exc).__name__}: {exc}")
            return None
        ms = (time.monotonic() - started) * 1000
        self.line("ok", what, f"{ms:.0f} ms, {self.client.calls - calls} call(s)")
        return result

    def spend(self):
        name = f"vc_check_{uuid.uuid4().hex[:16]}"
        with SAMPLE.open("rb") as sample:
            uploaded = self.step("upload 5 s sample", lambda: self.client.upload_file(sample, "check.wav"))
        if uploaded is None:
            return
        cloned = self.step(
            "clone (billed)",
            lambda: self.client.clone_voice(
                voice_name=name,
                input=SENTENCE,
                text=SAMPLE_TRANSCRIPT,
                file_id=uploaded.id,
                model=settings.BIGMODEL_CLONE_MODEL,
            ),
        )
        if cloned is None:
            return
        try:
            self.probe_preview_routes(cloned, name)
            preview = self.step(
                "preview",
                lambda: self.client.fetch_preview(
                    voice=cloned.voice,
                    voice_name=name,
                    file_id=cloned.file_id,
                    text=SENTENCE,
                    speech_model=settings.BIGMODEL_TTS_MODEL,
                ),
            )
            if preview is not None:
                self.line("info", "preview route used", preview[1])
            speech = self.step(
                "speak one sentence",
                lambda: self.client.speech(input=SENTENCE, voice=cloned.voice, model=settings.BIGMODEL_TTS_MODEL),
            )
            if speech is not None:
                sent = "on" if settings.BIGMODEL_WATERMARK else "off"
                self.line("info", "watermark tone in speech", f"{_tone(speech)} (watermark_enabled {sent})")
        finally:
            self.step("delete the voice", lambda: self.client.delete_voice(cloned.voice))

    def probe_preview_routes(self, cloned, name):
        """Each preview route on its own, for the report: which the account can use."""
        listed = self.client.find_voice(name)
        url = listed.download_url if listed else ""
        if not url:
            self.line("info", "download_url", "the voice list gives none")
        else:
            outcomes = {}
            for with_key in (False, True) if self.client.on_api_host(url) else (False,):
                try:
                    outcomes[with_key] = bigmodel.looks_like_audio(self.client.download(url, with_key=with_key))
                except bigmodel.BigModelError as exc:
                    outcomes[with_key] = f"refused ({exc.status})"
                if with_key is False and outcomes[False] is True:
                    break
            if outcomes[False] is True:
                self.line("ok", "download_url", "works without the key")
            elif outcomes.get(True) is True:
                self.line("ok", "download_url", f"needs the key (without: {outcomes[False]})")
            else:
                with_key = outcomes.get(True, "not tried: another host never gets the key")
                self.line("info", "download_url", f"no audio (without the key: {outcomes[False]}; with: {with_key})")
        if cloned.file_id:
            try:
                data = self.client.file_content(cloned.file_id)
                self.line(
                    "info", "file content", "serves the preview" if bigmodel.looks_like_audio(data) else "no audio"
                )
            except bigmodel.BigModelError as exc:
                self.line(
                    "info", "file content", f"refused, as documented for non-batch files ({exc.code or exc.status})"
                )
