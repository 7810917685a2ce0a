"""``manage.py djedge_sync [--state-dir DIR] [--account-id ID --namespace-id ID
| --local] [--edge URL] …``: ``djedge sync`` with the site's own database and
user model, as ``djedge_export`` reads them: what changed since the last
push, exported and pushed to the Worker's KV. For cron. Every option of
``djedge sync`` that is not the model's is one of this command's; the
Cloudflare token comes from ``CLOUDFLARE_API_TOKEN``, the edge's from
``DJEDGE_API_TOKEN``. After ``djedge_deploy`` nothing more is needed: the
state directory and the account default to ``DJEDGE_STATE_DIR`` and
``DJEDGE_CLOUDFLARE_ACCOUNT_ID``, and the binary finds the namespace deploy
made in the state directory."""

from django.core.management.base import BaseCommand, CommandError

from djedge.conf import djedge_settings
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
        parser.add_argument("--state-dir", help="where sync keeps its snapshots and state (default: DJEDGE_STATE_DIR)")
        parser.add_argument("--database", default="default", help="the DATABASES alias to read (default: default)")
        add_options(parser, SYNC_OPTIONS)

    def handle(self, *args, state_dir, database, **options):
        conf = djedge_settings()
        state_dir = state_dir or conf.state_dir
        if not state_dir:
            raise CommandError("Set DJEDGE_STATE_DIR (or --state-dir).")
        # After djedge_deploy: its account, and (found by the binary in the
        # state directory) its namespace.
        if not options.get("local") and not options.get("account_id"):
            options["account_id"] = conf.cloudflare_account_id
        arguments = ["--state-dir", state_dir, *export_arguments(), *option_arguments(SYNC_OPTIONS, options)]
        run_djedge("sync", arguments, database=database)
