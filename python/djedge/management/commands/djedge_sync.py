"""``manage.py djedge_sync --state-dir DIR (--account-id ID --namespace-id ID
| --local) [--edge URL] …``: ``djedge sync`` with the site's own database and
user model, as ``djedge_export`` reads them: what changed since the last
push, exported and pushed to the Worker's KV. For cron. The database URL
goes to the binary in its environment, as for the export; the Cloudflare
token comes from ``CLOUDFLARE_API_TOKEN``, the edge's from
``DJEDGE_API_TOKEN``."""

import os
import subprocess

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from djedge.binary import djedge_binary
from djedge.management.commands.djedge_export import database_url, export_arguments

# Options handed to `djedge sync` as they are: (flag, help).
PASSED = [
    ("--state-dir", "where sync keeps its snapshots and state (required)"),
    ("--account-id", "the Cloudflare account's id"),
    ("--namespace-id", "the Workers KV namespace's id"),
    ("--persist-to", "with --local: wrangler's --persist-to directory"),
    ("--api-url", "Cloudflare's API URL (a local server, for tests)"),
    ("--edge", "then wait until this edge's /v1/health names the snapshot"),
    ("--edge-timeout", "how long to wait for the edge, in seconds"),
    ("--max-deletes", "the most keys a delta may delete"),
    ("--keep", "snapshots kept besides the one last pushed"),
]


class Command(BaseCommand):
    help = "Export what changed since the last push and push it to the Worker's KV (djedge sync, from the site's settings)."

    def add_arguments(self, parser):
        for flag, text in PASSED:
            parser.add_argument(flag, help=text, required=flag == "--state-dir")
        parser.add_argument("--local", action="store_true", help="wrangler's local KV instead (development)")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")

    def handle(self, *args, database, local, **options):
        if database not in settings.DATABASES:
            raise CommandError(f"no database {database!r} in settings.DATABASES")
        command = [djedge_binary(), "sync", *export_arguments(get_user_model())]
        for flag, _ in PASSED:
            value = options.get(flag[2:].replace("-", "_"))
            if value is not None:
                command += [flag, str(value)]
        if local:
            command.append("--local")
        environment = {**os.environ, "DJEDGE_DATABASE": database_url(settings.DATABASES[database])}
        self.stdout.flush()
        finished = subprocess.run(command, env=environment, check=False)
        if finished.returncode != 0:
            raise CommandError(f"djedge sync failed (exit {finished.returncode}); its message is above")
