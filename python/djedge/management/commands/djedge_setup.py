"""``manage.py djedge_setup --connection NAME --edge-url URL [--usernames]
[--audience ID] [--dry-run]``: ``djedge auth0 setup`` on the tenant
``DJEDGE_AUTH0_DOMAIN`` names, with the Management API application's
credentials from the environment (``AUTH0_CLIENT_ID``,
``AUTH0_CLIENT_SECRET``; never settings). Username mode defaults to
``DJEDGE_IDENTIFIERS``. The site's users are exported first, so setup
prints the audit's summary (on stderr) before it changes anything; the
edge's settings (``NAME=value`` lines) go to stdout."""

import subprocess

from django.core.management.base import BaseCommand

from djedge.management.runner import auth0_tenant, identifiers_mode, run_djedge, site_snapshot


class Command(BaseCommand):
    help = "Set up the Auth0 tenant for the lazy migration (djedge auth0 setup, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="the database connection's name (created if missing)")
        parser.add_argument("--edge-url", required=True, help="the edge's URL, as Auth0 reaches it")
        parser.add_argument("--audience", help="the API identifier for the edge's tokens (default: the edge URL)")
        parser.add_argument("--usernames", action="store_true", default=None,
                            help="username mode (default: settings.DJEDGE_IDENTIFIERS)")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, and change nothing")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")

    def handle(self, *args, connection, edge_url, audience, usernames, dry_run, database, **options):
        arguments = ["--domain", auth0_tenant(), "--connection", connection, "--edge-url", edge_url]
        arguments += ["--audience", audience] if audience else []
        arguments += ["--usernames"] if identifiers_mode(usernames) else []
        arguments += ["--dry-run"] if dry_run else []
        with site_snapshot(None, database) as snapshot:
            printed = run_djedge("auth0 setup", [*arguments, "--snapshot", snapshot], stdout=subprocess.PIPE)
        self.stdout.write(printed, ending="")
