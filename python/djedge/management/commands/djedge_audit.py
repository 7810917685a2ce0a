"""``manage.py djedge_audit [--usernames] [--json] [--snapshot DIR]``: before
anyone migrates, every user Auth0 cannot create as they are (no email, an
email Auth0 refuses, an email another account shares), with the reason and
what to do; in username mode, who lands without their username. Exports the
site's users (as ``djedge_export`` does) into a temporary directory and runs
``djedge audit`` on it, or audits ``--snapshot``. The mode defaults to the
``DJEDGE_IDENTIFIERS`` setting (``"email"`` or ``"username"``)."""

import subprocess

from django.core.management.base import BaseCommand

from djedge.management.runner import add_snapshot_arguments, identifiers_mode, run_djedge, site_snapshot


class Command(BaseCommand):
    help = "Name every user Auth0 could not create as they are, and why (djedge audit, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--usernames", action="store_true", default=None,
                            help="username mode (default: settings.DJEDGE_IDENTIFIERS)")
        parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
        add_snapshot_arguments(parser)

    def handle(self, *args, usernames, json, snapshot, database, **options):
        usernames = identifiers_mode(usernames)
        with site_snapshot(snapshot, database) as snapshot:
            audit = ["--snapshot", snapshot]
            audit += ["--usernames"] if usernames else []
            audit += ["--json"] if json else []
            self.stdout.write(run_djedge("audit", audit, stdout=subprocess.PIPE), ending="")
