"""Fault injection: rules that make chosen calls slow, fail, drop or lie, for reliability tests.

A rule: {"route": "voice.clone" or "*", "action": "error" | "drop" | "drop_after" | "malformed" |
"delay", "status": 429, "code": "1302", "message": "...", "retry_after": 3, "latency": 0.5,
"times": 1 (None: forever), "skip": 0 (let that many matching calls through first),
"after_latency": 30 (do the work, then wait this long before answering),
"probability": 0.05 (apply to that share of matching calls, at random; default 1)}.
"""

import random
import threading

ACTIONS = {"error", "drop", "drop_after", "malformed", "delay"}


class Faults:
    def __init__(self, rules=None):
        self.lock = threading.Lock()
        self.rules = []
        self.replace(rules or [])

    def replace(self, rules):
        checked = []
        for rule in rules:
            rule = {"route": "*", "action": "error", "times": 1, "skip": 0, "latency": 0, **rule}
            if rule["action"] not in ACTIONS:
                raise ValueError(f"unknown fault action {rule['action']!r}")
            checked.append(rule)
        with self.lock:
            self.rules = checked

    def listing(self):
        with self.lock:
            return [dict(rule) for rule in self.rules]

    def take(self, route):
        """The rule that applies to this call, if any, counting it as used."""
        with self.lock:
            for rule in self.rules:
                if rule["route"] not in ("*", route) or rule["times"] == 0:
                    continue
                if random.random() >= rule.get("probability", 1):
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                return dict(rule)
        return None
