"""Command line of RTCC Console, the Qt-free part.

``rtcc-console`` (ui.main) adds the GUI commands ``run`` and ``demo`` to this
parser; everything here also works on a server without a display
(``python -m console.cli serve``).
"""
from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from console import config
from console.logs import setup_logging


def _cmd_serve(args: argparse.Namespace) -> int:
    from console.server.serve import serve_main
    return serve_main(host=args.host, port=args.port, db_url=args.db, demo=args.demo,
                      cache_dir=config.cache_dir())


def _cmd_login(args: argparse.Namespace) -> int:
    from console.api.client import BackendClient, BackendError
    from console.api.credentials import NoSecureStore, save_password
    settings = config.load()
    url = args.server or settings.server.url
    user = args.username or settings.server.username or input("username: ")
    password = getpass.getpass(f"password for {user}@{url}: ")
    client = BackendClient(url, verify=settings.tls_verify())
    try:
        client.login(user, password)
    except BackendError as exc:
        print(f"login failed: {exc}", file=sys.stderr)
        return 1
    try:
        save_password(url, user, password)
    except NoSecureStore as exc:
        print(f"logged in, but {exc}", file=sys.stderr)
        return 2
    settings.server.url, settings.server.username = url, user
    path = config.save(settings)
    print(f"credentials for {user}@{url} stored in the keyring; settings in {path}")
    return 0


def _cmd_prepare_demo(args: argparse.Namespace) -> int:
    from console.server.demo_world import prepare_demo_media
    prepare_demo_media(config.cache_dir())
    return 0


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from console.audit_cli import audit_verify_main
    return audit_verify_main(args.db)


def build_parser(extra: Callable[[argparse._SubParsersAction], None] | None = None
                 ) -> argparse.ArgumentParser:
    """The parser; ``extra`` lets the GUI entry point (ui.main) add its commands."""
    p = argparse.ArgumentParser(prog="rtcc-console", description="RTCC Console")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the reference backend (and simulator with --demo)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8470)
    s.add_argument("--db", default=None, help="database URL (default: SQLite in the data dir)")
    s.add_argument("--demo", action="store_true", help="seed and run the demo world")
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("login", help="check credentials and store them in the OS keyring")
    s.add_argument("--server", default=None)
    s.add_argument("--username", default=None)
    s.set_defaults(func=_cmd_login)

    s = sub.add_parser("prepare-demo", help="encode the demo cameras' clips (done once)")
    s.set_defaults(func=_cmd_prepare_demo)

    s = sub.add_parser("audit", help="audit log tools")
    audit_sub = s.add_subparsers(dest="audit_command", required=True)
    s = audit_sub.add_parser("verify", help="check the audit hash chain (exit 0 when intact)")
    s.add_argument("--db", default=None, help="database URL (default: the server's)")
    s.set_defaults(func=_cmd_audit_verify)
    if extra:
        extra(sub)
    return p


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except config.SettingsError as exc:
        print(f"rtcc-console: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
