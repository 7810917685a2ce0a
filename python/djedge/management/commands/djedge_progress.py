"""``manage.py djedge_progress [--snapshot DIR] [--migrations FILE]
[--auth0-users FILE] [--now TIME] [--json] [--html FILE]``: ``djedge
progress`` on the site's users (exported now into a temporary directory,
as ``djedge_audit`` does, unless ``--snapshot`` names one): how many active
users have moved, by hash format and last login, who is left, who cannot
land. Once everyone who still logs in is in Auth0, ``ModelBackend`` can go
(``djedge.backends``)."""

import subprocess

from django.core.management.base import BaseCommand

from djedge.management.runner import (
    PROGRESS_OPTIONS, add_options, add_snapshot_arguments, option_arguments, run_djedge, site_snapshot,
)


class Command(BaseCommand):
    help = "How far the move to Auth0 has come (djedge progress, on the site's users)."

    def add_arguments(self, parser):
        add_snapshot_arguments(parser)
        add_options(parser, PROGRESS_OPTIONS)
        parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
        parser.add_argument("--html", help="also write the figures as a self-contained page")

    def handle(self, *args, snapshot, database, json, html, **options):
        with site_snapshot(snapshot, database) as snapshot:
            arguments = ["--snapshot", snapshot, *option_arguments(PROGRESS_OPTIONS, options)]
            arguments += ["--json"] if json else []
            arguments += ["--html", html] if html else []
            self.stdout.write(run_djedge("progress", arguments, stdout=subprocess.PIPE), ending="")
