"""`atelier`: the command line; each sub-command is a thin shell over the service or runner."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import logs
from bot.config import Config
from bot.shutdown import join_until, on_signals, wait_for

if TYPE_CHECKING:
    from bot.playbook.service import PlaybookService


def _sessions(config: Config):  # type: ignore[no-untyped-def]
    from storage.db import make_engine, make_sessions, migrate

    engine = make_engine(config.database_url)
    migrate(engine)
    return make_sessions(engine)


def cmd_migrate(config: Config, _args: argparse.Namespace) -> int:
    from storage.db import make_engine, migrate

    migrate(make_engine(config.database_url))
    print(f"database is at the newest schema: {_safe_url(config.database_url)}")
    return 0


def cmd_export(config: Config, args: argparse.Namespace) -> int:
    from bot.playbook.errors import PlaybookError
    from bot.playbook.service import PlaybookService

    service = PlaybookService(_sessions(config))
    try:
        data = service.export(args.project)
        if args.zip:
            return _write_ship_pack(config, service, args.project, args.zip)
    except PlaybookError as error:
        print(error, file=sys.stderr)
        return 2
    text = json.dumps(data, indent=2)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
        print(
            f"wrote {args.out}: {len(data['recipes'])} recipe cards, {len(data['prompt_log'])} images"
        )
    else:
        print(text)
    return 0


def _write_ship_pack(config: Config, service: PlaybookService, project: int, path: str) -> int:
    """The same zip `ship` posts in Slack, written to a file."""
    from bot import ship_pack
    from storage.files import ImageStore

    record = service.ship_record(project)
    size = ship_pack.write(record, ImageStore(config.image_store), Path(path))
    print(f"wrote {path}: {len(record.finals)} cleared final(s), {size / 1024:.0f} KiB")
    return 0


def cmd_verify(_config: Config, args: argparse.Namespace) -> int:
    """Each file's Content Credentials and whether they validate; 0 only when all do."""
    from storage.content_credentials import trust_anchors, verify
    from storage.pngs import xmp_source

    anchors = trust_anchors()
    failed = 0
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as error:
            print(f"{name}: cannot read ({error.strerror})")
            failed += 1
            continue
        verdict = verify(data, anchors)
        line = verdict.summary()
        if verdict.state == "none":
            try:
                marked = xmp_source(data)
            except (OSError, SyntaxError, ValueError):  # not an image PIL can open
                marked = None
            line = "no Content Credentials" + (f" (XMP marks it {marked})" if marked else "")
        print(f"{name}: {line}")
        failed += not verdict.ok
    return 1 if failed else 0


def cmd_runner(config: Config, args: argparse.Namespace) -> int:
    from bot.runner.diffusion import registered_backend
    from bot.runner.worker import Worker
    from storage.files import ImageStore

    worker = Worker(
        _sessions(config),
        ImageStore(config.image_store),
        registered_backend(
            config.models(), config.device, config.max_loaded_models, config.lora_folder
        ),
        worker_id=args.worker_id,
        lease_seconds=args.lease_seconds,
        batch_size=args.batch_size,
        poll_seconds=args.poll_seconds,
        credentials=config.credentials(),
    )

    asked = on_signals()
    thread = threading.Thread(target=worker.run, name="runner", daemon=True)
    thread.start()
    wait_for(asked)
    # The job in hand goes back at its next chunk boundary, or at the deadline if that is first.
    worker.stop.set()
    if join_until([thread], time.monotonic() + config.shutdown_seconds):
        worker.hand_back()
    return 0


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from bot.serve import serve

    serve(config, http=args.http, port=args.port, host=args.host, runner=not args.no_runner)
    return 0


def cmd_demo(config: Config, args: argparse.Namespace) -> int:
    from bot.workbench.demo import main as demo

    logs.setup("WARNING", config.secrets())
    return demo(args.out, config)


def cmd_shell(config: Config, _args: argparse.Namespace) -> int:
    from bot.workbench.shell import main as shell

    logs.setup("WARNING", config.secrets())
    return shell(config)


def cmd_help(_config: Config, args: argparse.Namespace) -> int:
    """What the README and manifest.yml copy from the verb registry (`make docs` writes them)."""
    from bot.slack.grammar import markdown, usage_hint
    from handlers.verbs import HELP_GROUPS, VERBS, usage

    if args.markdown:
        text = markdown(VERBS, HELP_GROUPS)
    else:
        text = usage_hint(VERBS) if args.usage_hint else usage()
    print(text, end="" if text.endswith("\n") else "\n")
    return 0


def cmd_digest(config: Config, args: argparse.Namespace) -> int:
    from bot import digest
    from bot.playbook.service import PlaybookService
    from storage.files import ImageStore
    from storage.models import utcnow

    service = PlaybookService(_sessions(config))
    if args.dry_run:
        data = service.digest_data(args.channel, utcnow())
        print(digest.text(data))
        chart = Path(args.chart or f"digest-{args.channel}.png")
        chart.write_bytes(digest.chart(data))
        print(f"chart: {chart.resolve()}")
        return 0
    digest.post_digest(service, ImageStore(config.image_store), args.channel, once=False)
    print(f"digest for {args.channel} queued; a running `atelier serve` posts it")
    return 0


def _safe_url(url: str) -> str:
    """A database URL with any password hidden."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return (
            f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}" if ":" in credentials else url
        )
    return url


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: run AI image generation as a team function, from a Slack channel.",
        epilog="Settings come from the environment or a .env file; see README.md.",
    )
    sub = root.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="run the Slack bot (Socket Mode, or --http)")
    serve.add_argument(
        "--http", action="store_true", help="serve HTTP: POST /slack/events, GET /healthz"
    )
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address to bind (default all)")
    serve.add_argument(
        "--no-runner",
        action="store_true",
        help="don't render in this process; run `atelier runner` elsewhere",
    )
    serve.set_defaults(run=cmd_serve)

    demo = sub.add_parser("demo", help="run a whole scripted project offline and write it as HTML")
    demo.add_argument(
        "--out", default="atelier-demo", help="folder for index.html, images and the recipe card"
    )
    demo.set_defaults(run=cmd_demo)

    shell = sub.add_parser(
        "shell", help="an interactive local Slack channel (no Slack, no GPU needed)"
    )
    shell.set_defaults(run=cmd_shell)

    digest = sub.add_parser(
        "digest", help="the channel's daily digest now (or --dry-run to print it)"
    )
    digest.add_argument("--channel", required=True, help="Slack channel id, e.g. C0123456")
    digest.add_argument(
        "--dry-run", action="store_true", help="print it and write the chart instead of posting"
    )
    digest.add_argument(
        "--chart", help="where --dry-run writes the chart PNG (default digest-CHANNEL.png)"
    )
    digest.set_defaults(run=cmd_digest)

    verbs = sub.add_parser("help", help="the Slack commands, as `/atelier help` lists them")
    shown = verbs.add_mutually_exclusive_group()
    shown.add_argument("--markdown", action="store_true", help="as the README's command list")
    shown.add_argument("--usage-hint", action="store_true", help="the manifest's usage hint")
    verbs.set_defaults(run=cmd_help)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(run=cmd_migrate)

    export = sub.add_parser("export", help="print a project's recipe cards and prompt log as JSON")
    export.add_argument("project", type=int, help="project id (shown by `/atelier status`)")
    export.add_argument("--out", help="write to this file instead of standard output")
    export.add_argument(
        "--zip", metavar="PACK.zip", help="write the ship pack (finals, CSV, recipes, gate, audit)"
    )
    export.set_defaults(run=cmd_export)

    verify = sub.add_parser(
        "verify",
        help="print each PNG's Content Credentials (C2PA) and whether they validate",
        description="Exit status 0 only when every file has valid credentials. "
        "ATELIER_C2PA_TRUST (PEM) names the certificates whose signatures count as trusted.",
    )
    verify.add_argument(
        "files", nargs="+", metavar="FILE", help="PNG files, e.g. a ship pack's finals"
    )
    verify.set_defaults(run=cmd_verify)

    runner = sub.add_parser("runner", help="run a GPU runner that claims and renders jobs")
    runner.add_argument(
        "--batch-size", type=int, default=4, help="images per pipeline call (default 4)"
    )
    runner.add_argument(
        "--lease-seconds", type=float, default=60.0, help="job lease, renewed while working"
    )
    runner.add_argument("--poll-seconds", type=float, default=1.0, help="wait between empty polls")
    runner.add_argument("--worker-id", help="name in the job table (default host:pid)")
    runner.set_defaults(run=cmd_runner)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = Config.from_env()
    logs.setup(os.environ.get("ATELIER_LOG_LEVEL", "INFO").upper(), secrets=config.secrets())
    return int(args.run(config, args))


if __name__ == "__main__":
    sys.exit(main())
