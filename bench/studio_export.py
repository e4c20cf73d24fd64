"""Benchmark: exporting a one-hour studio project (600 lines of 6 s), the worker's memory and time, against
the ffmpeg CLI concatenating the same takes.

600 takes are made as generation leaves them (a WAV as spoken, plus its samples normalized to the
project's target), then a real Celery worker (Redis, PostgreSQL) exports the project while this script
samples the worker's resident memory every 10 ms. The goal is flat memory: under 100 MB above the idle
worker, whatever the length, because takes are streamed to the output a second at a time. The ffmpeg
CLI (`apt-get install ffmpeg`, for this comparison only: the app uses PyAV) concatenates the same WAVs
with its concat demuxer, as the quickest join it has (stream copy, no loudness matching, no pauses),
and encodes the same to MP3 (with the same LAME quality, -q 5). See bench/README.md.

    .venv/bin/python bench/studio_export.py [--lines 600] [--seconds 6]
"""

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench import stack  # noqa: E402

MB = 1024 * 1024


class PeakMemory:
    """The highest resident set size of a process while the block runs, sampled every 10 ms."""

    def __init__(self, pid):
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.running = False
        self.thread.join()


def run_ffmpeg(command):
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with PeakMemory(process.pid) as memory:
        _out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(err.decode()[-2000:])
    return time.perf_counter() - began, memory.peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each take")
    parser.add_argument("--rounds", type=int, default=3)
    stack.add_arguments(parser)
    parser.set_defaults(
        database_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/studio"),
        broker_url=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/12"),
    )
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise SystemExit("the ffmpeg CLI is needed for the comparison: apt-get install ffmpeg")

    data_dir = stack.data_dir("voiceclone-bench-studio-export-")
    env = stack.app_env(args, data_dir, LOG_LEVEL="INFO")  # the worker says "ready." at INFO
    stack.setup_django(env)
    stack.empty_broker(args.broker_url)

    import numpy as np
    from django.contrib.auth.models import User
    from django.core.files.base import ContentFile
    from django.db import transaction

    from studio import mastering, tasks
    from studio.models import Export, Line, Project, Take
    from tests.samples import voice_like

    User.objects.filter(username="bench-studio-export").delete()
    user = User.objects.create_user("bench-studio-export")

    def project_of(count, title):
        project = Project.objects.create(owner=user, title=title)
        for index in range(count):
            line = Line.objects.create(project=project, position=index, text=f"Line {index} of the programme.")
            samples, _rate = voice_like(args.seconds, f0=100 + index % 120, rate=mastering.RATE,
                                        level=0.05 + 0.5 * (index % 10) / 10)  # fmt: skip
            take = Take(line=line, text=line.text, voice="tongtong", voice_label="T", revision=1, status="ready")
            wav = mastering.wav_bytes(np.rint(samples * 32767).astype(np.int16))
            take.audio.save(f"{take.uuid}.wav", ContentFile(wav), save=False)
            take.duration = args.seconds
            take.save()
            mastering.ensure_normalized(take, project.loudness_target)  # as generation leaves it
            line.chosen_take = take
            line.save(update_fields=["chosen_take"])
        return project

    began = time.perf_counter()
    big = project_of(args.lines, "One hour")
    small = project_of(1, "Warm-up")
    print(f"made {args.lines} takes of {args.seconds:g} s in {time.perf_counter() - began:.0f} s")

    processes = []
    try:
        worker = stack.start_worker(env, data_dir, concurrency=1)
        processes.append(worker)
        pid = worker.popen.pid
        time.sleep(2)
        idle = psutil.Process(pid).memory_info().rss

        def export(project, **fields):
            with transaction.atomic():
                row = Export.objects.create(project=project, **fields)
                tasks.enqueue_export(row)
            started = time.perf_counter()
            with PeakMemory(pid) as memory:
                while Export.objects.filter(pk=row.pk, status__in=["queued", "running"]).exists():
                    time.sleep(0.02)
            elapsed = time.perf_counter() - started
            row.refresh_from_db()
            assert row.status == "ready", row.error_message
            return row, elapsed, memory.peak

        export(small)
        warm = psutil.Process(pid).memory_info().rss
        # The ffmpeg CLI on the same takes, alternately with ours, so that both see the same machine.
        from django.core.files.storage import default_storage

        paths = [default_storage.path(line.chosen_take.audio.name) for line in big.ordered_lines()]
        listing = Path(data_dir) / "concat.txt"
        listing.write_text("".join(f"file '{path}'\n" for path in paths))
        concat = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
        results = {"wav": [], "mp3": []}
        ff_wav, ff_mp3 = [], []
        for _ in range(args.rounds):
            results["wav"].append(export(big))
            ff_wav.append(run_ffmpeg([*concat, "-c", "copy", str(Path(data_dir) / "ff.wav")]))
            results["mp3"].append(export(big, format="mp3"))
            ff_mp3.append(
                run_ffmpeg(
                    [
                        *concat,
                        "-c:a",
                        "libmp3lame",
                        "-b:a",
                        "128k",
                        "-compression_level",
                        "5",
                        str(Path(data_dir) / "ff.mp3"),
                    ]
                )
            )
        Take.objects.filter(line__project=big).update(normalized_target=None)
        results["cold"] = [export(big)]
    finally:
        for process in reversed(processes):
            process.stop()

    wav_row = results["wav"][0][0]
    print(f"programme: {args.lines} lines x {args.seconds:g} s + pauses = {wav_row.duration / 60:.1f} min; "
          f"WAV {wav_row.audio.size / MB:.0f} MB")  # fmt: skip
    print(f"worker idle: {idle / MB:.0f} MB; after a one-line warm-up export: {warm / MB:.0f} MB")
    for kind, runs in results.items():
        times = [elapsed for _row, elapsed, _peak in runs]
        peak = max(p for _row, _elapsed, p in runs)
        decoded = runs[-1][0].decoded_takes
        label = {"wav": "WAV, takes already normalized", "mp3": "MP3, takes already normalized",
                 "cold": "WAV, every take decoded and normalized first"}[kind]  # fmt: skip
        print(f"export {label}: median {stack.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)}); "
              f"worker peak {peak / MB:.0f} MB = {(peak - idle) / MB:+.1f} MB over idle, "
              f"{(peak - warm) / MB:+.1f} MB over warm; {decoded} takes decoded")  # fmt: skip
    for label, runs, ours in [("WAV (stream copy)", ff_wav, results["wav"]), ("MP3 (libmp3lame)", ff_mp3,
                                                                              results["mp3"])]:  # fmt: skip
        ff_time = stack.median([t for t, _p in runs])
        our_time = stack.median([elapsed for _row, elapsed, _peak in ours])
        print(f"ffmpeg CLI concat -> {label}: median {ff_time:.2f} s, peak {max(p for _t, p in runs) / MB:.0f} MB; "
              f"ours / ffmpeg: {our_time / ff_time:.2f}x")  # fmt: skip
    stack.cleanup(data_dir)


if __name__ == "__main__":
    main()
