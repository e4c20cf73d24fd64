"""Benchmark-only settings: production's, plus a URLconf with a trivial view and a static file to
compare with. Never used outside bench/."""

from voiceclone_site.settings import *  # noqa: F403
from voiceclone_site.settings import DATA_DIR, STATICFILES_DIRS

ROOT_URLCONF = "bench.urls"
# bench/audio_serving.py puts a file of the preview's size here, for whitenoise to serve.
BENCH_STATIC_DIR = DATA_DIR / "bench-static"
BENCH_STATIC_DIR.mkdir(exist_ok=True)
STATICFILES_DIRS = [*STATICFILES_DIRS, BENCH_STATIC_DIR]
# bench/tasks.py: the floor that bench/pipeline_overhead.py compares the pipeline with.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405

# bench/gallery_million.py --metrics: the same app without the metrics middleware, to measure what it costs.
if env.bool("BENCH_WITHOUT_METRICS", default=False):  # noqa: F405
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "metrics.middleware.RequestMetricsMiddleware"]  # noqa: F405
