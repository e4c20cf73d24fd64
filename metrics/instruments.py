"""Every metric Voiceclone records, in one place. Names follow Prometheus' conventions (units, _total).

prometheus-client runs in multiprocess mode (settings set PROMETHEUS_MULTIPROC_DIR before this module
is imported): each web and worker process writes its values to files in that folder, and a scrape of
/metrics adds up the files of all processes on the machine.
"""

from prometheus_client import Counter, Histogram

# Pages answer in milliseconds; audio downloads and uploads can take seconds.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Provider calls: uploads and clones take seconds, speech of a long part up to a minute.
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)

http_request_seconds = Histogram(
    "voiceclone_http_request_duration_seconds",
    "Time to answer a request, by the view that answered it.",
    ["view", "method", "status"],
    buckets=REQUEST_BUCKETS,
)
provider_call_seconds = Histogram(
    "voiceclone_provider_call_duration_seconds",
    "BigModel calls by route, HTTP status and business error code ('-' for none), with their time.",
    ["route", "status", "code"],
    buckets=PROVIDER_BUCKETS,
)
task_seconds = Histogram(
    "voiceclone_task_duration_seconds",
    "Celery task runs by task and outcome (success, failure, retry), with their time.",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)
quota_refusals = Counter(
    "voiceclone_quota_refusals_total", "Submissions refused by a quota or the rate limit.", ["code"]
)
usage = Counter(
    "voiceclone_usage_total",
    "What was charged to users' quotas before provider calls: clones, and characters of speech.",
    ["kind"],
)
clones_finished = Counter("voiceclone_clones_finished_total", "Clones that became ready or failed.", ["status"])
utterances_finished = Counter("voiceclone_utterances_finished_total", "Speech that became ready or failed.", ["status"])


def observe_provider_call(route, status, code, seconds):
    """The BigModel client's per-call hook (see clones.bigmodel.BigModelClient's on_call)."""
    provider_call_seconds.labels(route, str(status or "-"), code or "-").observe(seconds)
