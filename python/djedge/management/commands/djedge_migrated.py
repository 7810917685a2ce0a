"""``manage.py djedge_migrated [--snapshot DIR] [--migrations FILE]
[--auth0-users FILE] [--now TIME]``: one line for cron's mail, from
``djedge progress --json`` (as ``djedge_progress`` runs it)::

    djedge: 1,234 of 5,678 active users are in Auth0 (21.7%); 12 cannot land (manage.py djedge_audit)
"""

import json
import subprocess

from django.core.management.base import BaseCommand, CommandError

from djedge.management.runner import (
    PROGRESS_OPTIONS, add_options, add_snapshot_arguments, option_arguments, run_djedge, site_snapshot,
)


def summary(progress: dict) -> str:
    total = progress["total"]
    line = (f"djedge: {total['migrated']:,} of {total['active']:,} active users are in Auth0 "
            f"({total['percent']:.1f}%)")
    blocked = len(progress["cannot_land"])
    return line + (f"; {blocked:,} cannot land (manage.py djedge_audit)" if blocked else "")


class Command(BaseCommand):
    help = "One line on how far the move to Auth0 has come, for cron's mail (from djedge progress)."

    def add_arguments(self, parser):
        add_snapshot_arguments(parser)
        add_options(parser, PROGRESS_OPTIONS)

    def handle(self, *args, snapshot, database, **options):
        with site_snapshot(snapshot, database) as snapshot:
            arguments = ["--snapshot", snapshot, "--json", *option_arguments(PROGRESS_OPTIONS, options)]
            answer = run_djedge("progress", arguments, stdout=subprocess.PIPE)
        try:
            line = summary(json.loads(answer))
        except (ValueError, KeyError, TypeError) as e:
            raise CommandError(f"djedge progress --json gave an answer this command cannot read ({type(e).__name__}).") \
                from None
        self.stdout.write(line)
