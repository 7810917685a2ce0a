"""``manage.py djedge_sync --state-dir DIR (--account-id ID --namespace-id ID
| --local) [--edge URL] …``: ``djedge sync`` with the site's own database and
user model, as ``djedge_export`` reads them: what changed since the last
push, exported and pushed to the Worker's KV. For cron. Every option of
``djedge sync`` that is not the model's is one of this command's; the
Cloudflare token comes from ``CLOUDFLARE_API_TOKEN``, the edge's from
``DJEDGE_API_TOKEN``."""

from django.core.management.base import BaseCommand

from djedge.management.runner import (
    SOURCE_OPTIONS, Option, add_options, export_arguments, option_arguments, run_djedge,
)

SYNC_OPTIONS = (
    Option("--keep", int, "snapshots kept besides the one last pushed"),
    *SOURCE_OPTIONS,
    Option("--account-id", str, "the Cloudflare account's id"),
    Option("--namespace-id", str, "the Workers KV namespace's id"),
    Option("--local", bool, "wrangler's local KV instead (development)"),
    Option("--persist-to", str, "with --local: wrangler's --persist-to directory"),
    Option("--api-url", str, "Cloudflare's API URL (a local server, for tests)"),
    Option("--requests-per-minute", int, "requests a minute at most"),
    Option("--attempts", int, "attempts per request before giving up"),
    Option("--force", bool, "push whatever snapshot the namespace holds"),
    Option("--edge", str, "then wait until this edge's /v1/health names the snapshot"),
    Option("--edge-timeout", int, "how long to wait for the edge, in seconds"),
)


class Command(BaseCommand):
    help = "Export what changed since the last push and push it to the Worker's KV (djedge sync, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--state-dir", required=True, help="where sync keeps its snapshots and state")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")
        add_options(parser, SYNC_OPTIONS)

    def handle(self, *args, state_dir, database, **options):
        arguments = ["--state-dir", state_dir, *export_arguments(), *option_arguments(SYNC_OPTIONS, options)]
        run_djedge("sync", arguments, database=database)
