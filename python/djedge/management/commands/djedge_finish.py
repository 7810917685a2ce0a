"""``manage.py djedge_finish --connection NAME [--dry-run]``: ``djedge auth0
finish`` on the tenant ``DJEDGE_AUTH0_DOMAIN`` names (credentials as for
``djedge_setup``): the connection's scripts answer "no such user" without
calling the edge. Whoever has not moved by then resets their password in
Auth0; drop ``ModelBackend`` now at the latest."""

from django.core.management.base import BaseCommand

from djedge.management.runner import auth0_tenant, run_djedge


class Command(BaseCommand):
    help = "End the lazy migration: the connection stops asking the edge (djedge auth0 finish, from the site's settings)."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="the database connection's name")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, and change nothing")

    def handle(self, *args, connection, dry_run, **options):
        arguments = ["--domain", auth0_tenant(), "--connection", connection]
        run_djedge("auth0 finish", arguments + (["--dry-run"] if dry_run else []))
