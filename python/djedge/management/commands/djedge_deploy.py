"""``manage.py djedge_deploy [--dry-run] …``: ``djedge deploy`` with the
site's own database, user model and settings. From ``pip install djedge``
to a live migration with four settings (``DJEDGE_AUTH0_DOMAIN``,
``DJEDGE_AUTH0_CONNECTION``, ``DJEDGE_CLOUDFLARE_ACCOUNT_ID``,
``DJEDGE_STATE_DIR``) and three variables in the environment, never in
settings (``CLOUDFLARE_API_TOKEN``; ``AUTH0_CLIENT_ID`` and
``AUTH0_CLIENT_SECRET``, a Management API application's): the Worker the
wheel carries, its KV namespace, its settings and the site's users on
Cloudflare, and the Auth0 tenant set up to call it. Idempotent and
resumable; ``djedge_sync`` with the same state directory keeps it current.
The Worker's URL goes to stdout."""

import subprocess

from django.core.management.base import BaseCommand, CommandError

from djedge.conf import djedge_settings
from djedge.management.runner import (
    SOURCE_OPTIONS, Option, add_options, auth0_tenant, export_arguments, identifiers_mode, option_arguments,
    run_djedge,
)

DEPLOY_OPTIONS = (
    Option("--name", str, "the Worker's name (default djedge); its KV namespace is NAME-snapshot"),
    Option("--worker", str, "a built Worker directory, instead of the one the wheel carries"),
    Option("--edge-url", str, "where Auth0 reaches the Worker, when not at its workers.dev URL"),
    Option("--audience", str, "the API identifier for the edge's tokens (default: the Worker's URL)"),
    Option("--email-verified", bool, "every email the site holds was verified"),
    Option("--cpu-ms", int, "CPU milliseconds a request may take on Cloudflare"),
    Option("--keep", int, "snapshots kept besides the one last pushed"),
    *SOURCE_OPTIONS,
    Option("--api-url", str, "Cloudflare's API URL (a local server, for tests)"),
    Option("--requests-per-minute", int, "requests a minute at most to Cloudflare's API"),
    Option("--attempts", int, "attempts per Cloudflare request before giving up"),
    Option("--edge-timeout", int, "how long to wait for the Worker, in seconds"),
    Option("--dry-run", bool, "show what would change, and change nothing"),
)


class Command(BaseCommand):
    help = "Put the migration live: the Worker, its KV and the site's users on Cloudflare, Auth0 set up to call it."

    def add_arguments(self, parser):
        parser.add_argument("--state-dir", help="where deploy and sync keep their state (default: DJEDGE_STATE_DIR)")
        parser.add_argument("--account-id", help="the Cloudflare account (default: DJEDGE_CLOUDFLARE_ACCOUNT_ID)")
        parser.add_argument("--connection", help="the Auth0 database connection (default: DJEDGE_AUTH0_CONNECTION)")
        parser.add_argument("--usernames", action="store_true", default=None,
                            help="username mode (default: settings.DJEDGE_IDENTIFIERS)")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")
        add_options(parser, DEPLOY_OPTIONS)

    def handle(self, *args, state_dir, account_id, connection, usernames, database, **options):
        conf = djedge_settings()
        given = {
            "--state-dir": (state_dir or conf.state_dir, "DJEDGE_STATE_DIR"),
            "--account-id": (account_id or conf.cloudflare_account_id, "DJEDGE_CLOUDFLARE_ACCOUNT_ID"),
            "--connection": (connection or conf.auth0_connection, "DJEDGE_AUTH0_CONNECTION"),
        }
        missing = [f"{setting} (or {flag})" for flag, (value, setting) in given.items() if not value]
        if missing:
            raise CommandError(f"Set {', '.join(missing)}.")
        arguments = [argument for flag, (value, _) in given.items() for argument in (flag, value)]
        arguments += ["--domain", auth0_tenant()]
        arguments += ["--usernames"] if identifiers_mode(usernames) else []
        arguments += [*export_arguments(), *option_arguments(DEPLOY_OPTIONS, options)]
        printed = run_djedge("deploy", arguments, database=database, stdout=subprocess.PIPE)
        # The export's report, then the Worker's URL, last.
        self.stdout.write(printed, ending="")
