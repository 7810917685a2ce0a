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

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from djedge.binary import djedge_binary
from djedge.management.commands.djedge_export import database_url, export_arguments


class Command(BaseCommand):
    help = "Name every user Auth0 could not create as they are, and why (djedge audit, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--usernames", action="store_true", default=None,
                            help="username mode (default: settings.DJEDGE_IDENTIFIERS)")
        parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
        parser.add_argument("--snapshot", help="audit this snapshot instead of exporting the users now")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")

    def handle(self, *args, usernames, json, snapshot, database, **options):
        mode = getattr(settings, "DJEDGE_IDENTIFIERS", "email")
        if mode not in ("email", "username"):
            raise CommandError(f"settings.DJEDGE_IDENTIFIERS must be 'email' or 'username', not {mode!r}")
        usernames = mode == "username" if usernames is None else usernames
        with tempfile.TemporaryDirectory(prefix="djedge-audit-") as scratch:
            if snapshot is None:
                if database not in settings.DATABASES:
                    raise CommandError(f"no database {database!r} in settings.DATABASES")
                snapshot = os.path.join(scratch, "snapshot")
                export = [djedge_binary(), "export", "--out", snapshot, *export_arguments(get_user_model())]
                environment = {**os.environ, "DJEDGE_DATABASE": database_url(settings.DATABASES[database])}
                # The export's own report goes to stderr's neighbour: keep stdout the audit's.
                finished = subprocess.run(export, env=environment, stdout=subprocess.DEVNULL, check=False)
                if finished.returncode != 0:
                    raise CommandError(f"djedge export failed (exit {finished.returncode}); its message is above")
            audit = [djedge_binary(), "audit", "--snapshot", snapshot]
            audit += ["--usernames"] if usernames else []
            audit += ["--json"] if json else []
            self.stdout.flush()
            finished = subprocess.run(audit, check=False, capture_output=True, text=True)
            if finished.returncode != 0:
                raise CommandError(f"djedge audit failed (exit {finished.returncode}): {finished.stderr.strip()}")
            self.stdout.write(finished.stdout, ending="")
