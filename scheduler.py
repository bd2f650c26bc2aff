#!/usr/bin/env python3
"""The scheduler's entry point (the same as ``listening schedule``).

    python scheduler.py [--config PATH] [--speedup N]   # run until SIGTERM / Ctrl-C
    python scheduler.py --healthcheck                   # exit 0 while the heartbeat is fresh

The store comes from ``MONGO_URI`` (else the embedded default); the jobs from the
config's sources, departments and ``schedule`` section (docs/deployment.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", "-c", help="listening.yaml (default: $LISTENING_CONFIG, ./listening.yaml, the demo)")
    parser.add_argument("--speedup", type=float, default=1.0, help="compress time (demos and tests): 60 = an hour a minute")
    parser.add_argument("--heartbeat", type=Path, help="heartbeat file (default: DATA/scheduler.heartbeat)")
    parser.add_argument("--lease-ttl", type=float, help="seconds a dead scheduler blocks its jobs (default 120)")
    parser.add_argument("--healthcheck", action="store_true", help="check the heartbeat and exit")
    parser.add_argument("--max-age", type=float, default=60.0, help="healthcheck: oldest healthy heartbeat (s)")
    args = parser.parse_args(argv)

    from listening import schedule

    heartbeat = args.heartbeat or schedule.default_heartbeat()
    if args.healthcheck:
        age = schedule.heartbeat_age(heartbeat)
        print("no heartbeat" if age is None else f"heartbeat {age:.0f}s old")
        return 0 if age is not None and age <= args.max_age else 1

    from listening.config import ConfigError, load_config
    from listening.store import Store
    from listening.store.embedded import EmbeddedStoreError

    schedule.configure_logging()
    try:  # one clear line, not a traceback, like the CLI (exit 2: config, 3: store)
        config = load_config(args.config)
        store = Store.connect()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except EmbeddedStoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 3
    try:
        schedule.run(store, config, config_path=args.config, speedup=args.speedup,
                     heartbeat=heartbeat, lease_ttl=args.lease_ttl)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
