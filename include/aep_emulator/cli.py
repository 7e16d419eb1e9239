"""``aep-emulator serve``: run the emulator with uvicorn until stopped."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from .app import create_app
from .state import DEFAULT_DATA_END, Config, Store


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aep-emulator", description="Local Adobe Experience Platform emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve IMS and the Platform APIs on one host and port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--latency-ms", type=int, default=0, help="latency added to every Platform/IMS call")
    serve.add_argument("--seed", type=int, default=42, help="seed of the simulated HubSpot data")
    serve.add_argument("--state", default=None, metavar="FILE", help="persist state in this JSON file")
    serve.add_argument("--token-ttl", type=int, default=86399, help="access token lifetime in seconds")
    serve.add_argument("--run-duration", type=float, default=1.0, help="real seconds a flow run takes")
    serve.add_argument("--data-end", default=DEFAULT_DATA_END, help="end date of the simulated HubSpot data")
    serve.add_argument("--log-level", default="warning")
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        token_ttl_seconds=args.token_ttl,
        run_duration_seconds=args.run_duration,
        latency_ms=args.latency_ms,
        seed=args.seed,
        data_end=args.data_end,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        store = Store(config=config_from_args(args), state_file=args.state)
        app = create_app(store)
        base_url = f"http://{args.host}:{args.port}"
        print(f"AEP emulator serving at {base_url}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        store.save()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
