"""``manage.py djedge_export --out DIR [--previous DIR] [--database ALIAS]
[--max-deletes N] [the cost caps]``: ``djedge export`` with the connection
from ``settings.DATABASES`` and every table and column from
``AUTH_USER_MODEL``'s metadata (``djedge.management.runner``)."""

from django.core.management.base import BaseCommand

from djedge.management.runner import SOURCE_OPTIONS, add_options, export_arguments, option_arguments, run_djedge


class Command(BaseCommand):
    help = "Export the users of AUTH_USER_MODEL into a djedge snapshot (djedge export, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="a new or empty directory for the snapshot")
        parser.add_argument("--previous", help="the previous snapshot: write only what changed since it")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")
        add_options(parser, SOURCE_OPTIONS)

    def handle(self, *args, out, previous, database, **options):
        arguments = ["--out", out, *export_arguments()]
        if previous:
            arguments += ["--previous", previous]
        # The binary prints its report and progress as it always does.
        run_djedge("export", arguments + option_arguments(SOURCE_OPTIONS, options), database=database)
