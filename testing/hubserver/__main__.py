"""Run a local Hub: ``python -m testing.hubserver --root DIR [--latency S] [--port N] [--cdn-port N]``.

Prints one JSON line ``{"endpoint": ..., "cdn": ...}`` on stdout once listening, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .server import HubServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testing.hubserver", description=__doc__)
    parser.add_argument("--root", required=True, help="HubStore directory (created if missing)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--page-size", type=int, default=50, help="entries per page of tree/commit listings")
    parser.add_argument("--port", type=int, default=0, help="Hub port (0 = any free port)")
    parser.add_argument("--cdn-port", type=int, default=0, help="LFS CDN port (0 = any free port)")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    server = HubServer(
        args.root, latency=args.latency, page_size=args.page_size, port=args.port, cdn_port=args.cdn_port
    )
    server.start()
    try:
        sys.stdout.write(json.dumps({"endpoint": server.endpoint, "cdn": server.cdn_endpoint}) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
