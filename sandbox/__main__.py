"""`python -m sandbox`: serve the BigModel sandbox on loopback.

Environment: SANDBOX_PORT, SANDBOX_API_KEY, SANDBOX_LATENCY (seconds added to every call),
SANDBOX_FAULTS (a JSON list of fault rules, see sandbox/faults.py), SANDBOX_MAX_CONCURRENCY (calls in
flight before 429 1302; 0: no cap), SANDBOX_FIRST_CHUNK_LATENCY (seconds before a speech stream's first
chunk), SANDBOX_STREAM_PACE (seconds of streamed audio sent per second; 0: as fast as it is made),
SANDBOX_FILE_CONTENT ("batch", as documented, or "all").
"""

import argparse
import json
import os
import signal
import sys

from werkzeug.serving import make_server

from sandbox.app import API, create_app


def main():
    parser = argparse.ArgumentParser(description="A local stand-in for BigModel's voice API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", 8100)))
    parser.add_argument("--data-dir", default="data/sandbox")
    args = parser.parse_args()

    app = create_app(
        args.data_dir,
        api_key=os.environ.get("SANDBOX_API_KEY", "sandbox"),
        latency=float(os.environ.get("SANDBOX_LATENCY", 0)),
        faults=json.loads(os.environ.get("SANDBOX_FAULTS") or "[]"),
        max_concurrency=int(os.environ.get("SANDBOX_MAX_CONCURRENCY", 0)),
        first_chunk_latency=float(os.environ.get("SANDBOX_FIRST_CHUNK_LATENCY", 0)),
        stream_pace=float(os.environ.get("SANDBOX_STREAM_PACE", 0)),
        file_content=os.environ.get("SANDBOX_FILE_CONTENT", "batch"),
    )
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"BigModel sandbox listening on http://{args.host}:{server.server_port}{API}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
