"""``aep-emulator serve``: run the emulator with uvicorn until stopped."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from .state import Config, StateFileError, Store

try:
    import uvicorn

    from .app import create_app
except ModuleNotFoundError as exc:  # the web stack is the `emulator` extra, not a provider dependency
    raise ModuleNotFoundError(
        f"{exc.msg}: the AEP emulator needs the emulator extra, pip install 'airflow-aep-onboarding[emulator]' "
        "(make setup installs it)", name=exc.name
    ) from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aep-emulator", description="Local Adobe Experience Platform emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve IMS and the Platform APIs on one host and port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--state", default=None, metavar="FILE",
                       help="persist resources and records in this JSON file (mode 0600, in a 0700 folder)")
    serve.add_argument("--allowed-host", dest="allowed_hosts", action="append", default=[], metavar="NAME",
                       help="a host name the admin API answers besides loopback and --host (repeatable)")
    serve.add_argument("--log-level", default="warning")
    # One option per Config field (dest = the field), defaulting to the field's default.
    default = Config()
    for flag, dest, kind, text in CONFIG_OPTIONS:
        serve.add_argument(flag, dest=dest, type=kind, default=getattr(default, dest), help=text,
                           metavar=flag[2:].upper().replace("-", "_"))
    return parser


CONFIG_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--latency-ms", "latency_ms", int, "latency added to every Platform/IMS call"),
    ("--seed", "seed", int, "seed of the simulated HubSpot data"),
    ("--token-ttl", "token_ttl_seconds", int, "access token lifetime in seconds"),
    ("--run-duration", "run_duration_seconds", float, "real seconds a flow run takes"),
    ("--scheduled-run-delay", "scheduled_run_delay_seconds", float,
     "seconds after its due time a scheduled run is recorded (its createdAt)"),
    ("--data-end", "data_end", str, "end date of the simulated HubSpot data"),
    ("--mapping-put-answer", "mapping_put_answer", str,
     "PUT /mappingSets answer: spec (the whole MappingSet, data-prep.yaml) or docs (the fields of "
     "mapping-set.md's example answer, with its new version)"),
)


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Config)})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        try:
            store = Store(config=config_from_args(args), state_file=args.state)
        except StateFileError as exc:
            print(f"aep-emulator: {exc}", file=sys.stderr)
            return 2
        app = create_app(store, allowed_hosts=(args.host, *args.allowed_hosts))
        base_url = f"http://{args.host}:{args.port}"
        print(f"AEP emulator serving at {base_url}", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        store.close()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
