"""``manage.py djedge_audit [--usernames] [--json] [--snapshot DIR]``: before
anyone migrates, every user Auth0 cannot create as they are (no email, an
email Auth0 refuses, an email another account shares), with the reason and
what to do; in username mode, who lands without their username. Exports the
site's users (as ``djedge_export`` does) into a temporary directory and runs
``djedge audit`` on it, or audits ``--snapshot``. The mode defaults to the
``DJEDGE_IDENTIFIERS`` setting (``"email"`` or ``"username"``)."""

import os
import subprocess
import tempfile

from django.core.management.base import BaseCommand, CommandError

from djedge.conf import djedge_settings
from djedge.management.runner import export_arguments, run_djedge


class Command(BaseCommand):
    help = "Name every user Auth0 could not create as they are, and why (djedge audit, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--usernames", action="store_true", default=None,
                            help="username mode (default: settings.DJEDGE_IDENTIFIERS)")
        parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
        parser.add_argument("--snapshot", help="audit this snapshot instead of exporting the users now")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")

    def handle(self, *args, usernames, json, snapshot, database, **options):
        if usernames is None:
            mode = djedge_settings().identifiers
            if mode is None:
                raise CommandError("settings.DJEDGE_IDENTIFIERS must be 'email' or 'username' (djedge.E007).")
            usernames = mode == "username"
        with tempfile.TemporaryDirectory(prefix="djedge-audit-") as scratch:
            if snapshot is None:
                snapshot = os.path.join(scratch, "snapshot")
                # The export's report is not the audit's: stdout stays the audit's alone.
                run_djedge("export", ["--out", snapshot, *export_arguments()], database=database,
                           stdout=subprocess.DEVNULL)
            audit = ["--snapshot", snapshot]
            audit += ["--usernames"] if usernames else []
            audit += ["--json"] if json else []
            self.stdout.write(run_djedge("audit", audit, stdout=subprocess.PIPE), ending="")
