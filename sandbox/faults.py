"""Fault injection: rules that make chosen calls slow, fail, drop, lie or mis-speak, for reliability tests.

A rule is a JSON object; every key but "route" is optional:

- "route": "voice.clone", "audio.speech", "download", ... or "*" (any API call).
- "action": one of ACTIONS (default "error"):
  - "error": answer with an error. {"code": "1220"} alone answers the documented HTTP status and
    message of that code (sandbox/errors.py); "status" and "message" override them. {"status": 503}
    without a code answers what a gateway sends, an HTML page; on the "download" route, what object
    storage sends for a signed URL, an XML error (401/403 AccessDenied, 404 NoSuchKey).
  - "drop": close the connection without an answer; "drop_after": do the work, then close it.
  - "malformed": a 200 whose body is not valid JSON.
  - "missing_field": do the work, then answer 200 with valid JSON lacking one field: "field" names
    it (default: the first field of the route's answer, e.g. "voice" for voice.clone); for
    voice.list, the field is taken out of every listed voice.
  - "error_body": a 2xx ("status", default 200) whose body is the JSON error of "code" (default
    "1214"), sent as application/json where audio or data was expected.
  - "delay": only the latencies below.
  - "mispeak": on audio.speech or voice.clone, the audio says the text with a mistake:
    "mispeak": "drop" | "repeat" | "swap" (default "drop") removes one unit (a word, or a CJK
    character), says one twice, or swaps two neighbours; transcription then hears what was said.
    "first_takes_only": true limits it to the first time the sandbox speaks a given text, so that
    "probability": 0.1 spoils a tenth of first takes and no retry.
  - "stream_error": a streamed audio.speech call sends "after_chunks" chunks (default 1), then an
    event {"error": {"code", "message"}, "request_id"} for "code" (default "1234"), and ends without
    [DONE]; "stream_drop": it sends them, then closes the connection.
- "latency": seconds to wait before answering; "after_latency": do the work, then wait this long.
- "first_chunk_latency": on a streamed audio.speech call, seconds before the first chunk.
- "times": how many calls the rule applies to (default 1; null: forever); "skip": let that many
  matching calls through first; "probability": apply to that share of matching calls (default 1);
  "seed": makes the probability draws and the choice of mis-spoken unit repeatable.
- "retry_after": a Retry-After header on an error.
"""

import random
import threading

ACTIONS = {
    "error",
    "drop",
    "drop_after",
    "malformed",
    "missing_field",
    "error_body",
    "delay",
    "mispeak",
    "stream_error",
    "stream_drop",
}
MISPEAKS = {"drop", "repeat", "swap"}


class Faults:
    def __init__(self, rules=None):
        self.lock = threading.Lock()
        self.rules = []
        self.random = {}
        self.replace(rules or [])

    def replace(self, rules):
        checked = []
        for rule in rules:
            rule = {"route": "*", "action": "error", "times": 1, "skip": 0, "latency": 0, **rule}
            if rule["action"] not in ACTIONS:
                raise ValueError(f"unknown fault action {rule['action']!r}")
            if rule["action"] == "mispeak":
                rule.setdefault("mispeak", "drop")
                if rule["mispeak"] not in MISPEAKS:
                    raise ValueError(f"unknown mispeak {rule['mispeak']!r}: one of {sorted(MISPEAKS)}")
            checked.append(rule)
        with self.lock:
            self.rules = checked
            # One generator per rule: a seeded rule draws the same sequence however other rules are used.
            self.random = {index: random.Random(rule.get("seed")) for index, rule in enumerate(checked)}

    def listing(self):
        with self.lock:
            return [dict(rule) for rule in self.rules]

    def take(self, route):
        """The rule that applies to this call, if any, counting it as used; it carries its own `rng`."""
        with self.lock:
            for index, rule in enumerate(self.rules):
                if rule["route"] not in ("*", route) or rule["times"] == 0:
                    continue
                rng = self.random[index]
                if rng.random() >= rule.get("probability", 1):
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                return {**rule, "rng": random.Random(rng.random())}
        return None
