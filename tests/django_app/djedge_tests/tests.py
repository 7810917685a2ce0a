"""The djedge Django app, from the installed wheel, with real Django, against
the local Auth0 tenant (tests/auth0/tenant.mjs: discovery, keys, /authorize,
the code exchange, with ID tokens made there)."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from io import StringIO
from unittest import mock
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.core.checks import run_checks
from django.core.management import CommandError, call_command, load_command_class
from django.core.management.base import SystemCheckError
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings
from django.urls import path

from djedge.backends import Auth0Backend
from djedge.binary import djedge_binary
from djedge.conf import djedge_settings
from djedge.management.runner import export_arguments

TENANT = settings.TENANT
User = get_user_model()
AUTH0_SETTINGS = ("DJEDGE_AUTH0_DOMAIN", "DJEDGE_AUTH0_CLIENT_ID", "DJEDGE_AUTH0_CLIENT_SECRET")
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A site without the djedge URLs: ROOT_URLCONF=__name__.
urlpatterns = [path("admin/", admin.site.urls)]


class SiteBackend(Auth0Backend):
    """A site's own steps: still djedge's backend."""


@contextmanager
def site_settings(*unset, **overrides):
    """override_settings, with the settings named in `unset` taken away."""
    with override_settings(**overrides):
        for name in unset:
            delattr(settings, name)
        yield


def djedge_check_ids():
    return sorted(m.id for m in run_checks() if m.id and m.id.startswith("djedge."))


def make_user(email, password="pw", **fields):
    if User.USERNAME_FIELD == "email":
        return User.objects.create_user(email=email, password=password, **fields)
    return User.objects.create_user(username=email.split("@")[0], email=email, password=password, **fields)


class Auth0Login(TestCase):
    def setUp(self):
        self.alice = make_user("alice@example.com")
        self.sam = make_user("sam@example.com", is_staff=True)
        self.ian = make_user("ian@example.com", is_active=False)

    def sign_in(self, claims, next_url="/", overrides=None, tamper_state=False, start=None):
        """The whole flow: djedge:login (or `start`, which leads there), the
        tenant's /authorize (where the person named by `claims` signs in),
        djedge:callback."""
        started = self.client.get(start or f"/auth0/login/?next={quote(next_url)}")
        if started["Location"].startswith("/auth0/login/"):
            started = self.client.get(started["Location"])
        self.assertEqual(started.status_code, 302)
        authorize = started["Location"]
        self.assertTrue(authorize.startswith(f"{TENANT['url']}/authorize?"), authorize)
        for part in ("state=", "nonce=", "response_type=code", "scope=openid"):
            self.assertIn(part, authorize)
        if overrides:
            requests.post(f"{TENANT['url']}/_test/id-token", json=overrides, timeout=10).raise_for_status()
        back = requests.get(f"{authorize}&_test_claims={quote(json.dumps(claims))}", allow_redirects=False, timeout=10)
        self.assertEqual(back.status_code, 302)
        callback = urlsplit(back.headers["location"])
        query = callback.query.replace("state=", "state=x") if tamper_state else callback.query
        return self.client.get(f"{callback.path}?{query}")

    def migrated(self, user, **claims):
        return {"sub": f"auth0|django_{user.pk}", "email": user.email, "email_verified": True, **claims}

    def signed_in_as(self):
        return self.client.session.get("_auth_user_id")

    def test_a_migrated_user_lands_on_the_same_account(self):
        answer = self.sign_in(self.migrated(self.alice), next_url="/somewhere")
        self.assertEqual((answer.status_code, answer["Location"]), (302, "/somewhere"))
        self.assertEqual(self.signed_in_as(), str(self.alice.pk))
        self.assertEqual(User.objects.count(), 3, "nobody new")

    def test_staff_reach_the_admin_through_auth0_and_others_do_not(self):
        to_login = self.client.get("/admin/")
        self.assertEqual(to_login.status_code, 302)
        via_admin = self.client.get(to_login["Location"])
        self.assertTrue(via_admin["Location"].startswith("/auth0/login/?next="), via_admin["Location"])
        self.sign_in(self.migrated(self.sam), next_url="/admin/")
        self.assertEqual(self.client.get("/admin/").status_code, 200)
        self.client.logout()
        self.sign_in(self.migrated(self.alice), next_url="/admin/")
        refused = self.client.get(self.client.get("/admin/")["Location"])
        self.assertEqual(refused.status_code, 403, "not staff: no admin, and no loop through Auth0")

    def test_the_admin_login_lands_on_the_admin_index_or_a_safe_next(self):
        for start, lands in (
            ("/admin/login/", "/admin/"),
            ("/admin/login/?next=/admin/auth/", "/admin/auth/"),
            ("/admin/login/?next=https://evil.example/admin/", "/admin/"),
        ):
            with self.subTest(start):
                answer = self.sign_in(self.migrated(self.sam), start=start)
                self.assertEqual((answer.status_code, answer["Location"]), (302, lands))
                again = self.client.get(start)
                self.assertEqual((again.status_code, again["Location"]), (302, lands), "already signed in")
                self.client.logout()

    def test_rights_come_from_django_never_from_a_claim(self):
        self.sign_in(self.migrated(self.alice, is_staff=True, app_metadata={"django": {"is_staff": True}}))
        self.assertEqual(self.signed_in_as(), str(self.alice.pk))
        self.assertFalse(User.objects.get(pk=self.alice.pk).is_staff)

    def test_inactive_deleted_and_unknown_users_get_nobody_in(self):
        gone = make_user("gone@example.com")
        gone_claims = self.migrated(gone)
        gone.delete()
        for claims in (
            self.migrated(self.ian),
            gone_claims,
            {"sub": "auth0|django_0" + str(self.alice.pk)},
            {"sub": "auth0|65f0c0ffee0000"},
        ):
            answer = self.sign_in(claims)
            self.assertEqual(answer.status_code, 403, claims)
            self.assertIsNone(self.signed_in_as())

    def test_an_unverified_email_from_another_connection_takes_over_nobody(self):
        claims = {"sub": "google-oauth2|1234", "email": self.alice.email, "email_verified": False}
        self.assertEqual(self.sign_in(claims).status_code, 403)
        with override_settings(DJEDGE_CREATE_USERS=True):
            self.assertEqual(self.sign_in(claims).status_code, 302)
        created = User.objects.get(pk=self.signed_in_as())
        self.assertNotEqual(created.pk, self.alice.pk)
        self.assertFalse(created.is_staff or created.has_usable_password())
        self.client.logout()
        with override_settings(DJEDGE_CREATE_USERS=True):
            self.sign_in(claims)
        self.assertEqual(self.signed_in_as(), str(created.pk), "the link, not a second account")

    def test_bad_tokens_and_a_bad_state_get_nobody_in(self):
        now = int(time.time())
        cases = {
            "state": ({}, True),
            "nonce": ({"claims": {"nonce": "not-the-one"}}, False),
            "aud": ({"claims": {"aud": "someone-else"}}, False),
            "iss": ({"claims": {"iss": "https://evil.eu.auth0.com/"}}, False),
            "expired": ({"claims": {"exp": now - 3600, "iat": now - 7200}}, False),
            "a stranger's key": ({"key": "stranger"}, False),
            "HS256 with the client secret": ({"key": "hs256"}, False),
        }
        for name, (overrides, tamper) in cases.items():
            with self.subTest(name):
                answer = self.sign_in(self.migrated(self.alice), overrides=overrides or None, tamper_state=tamper)
                self.assertEqual(answer.status_code, 403, name)
                self.assertIsNone(self.signed_in_as(), name)

    def test_local_passwords_are_retired_only_when_the_site_says_so(self):
        model_backend = ModelBackend()
        alice = self.alice.get_username()
        self.sign_in(self.migrated(self.alice))
        self.assertEqual(self.signed_in_as(), str(self.alice.pk))
        self.assertIsNotNone(model_backend.authenticate(None, username=alice, password="pw"), "off by default")
        self.client.logout()
        with override_settings(DJEDGE_RETIRE_LOCAL_PASSWORDS=True):
            self.assertIsNotNone(model_backend.authenticate(None, username=alice, password="pw"), "not before Auth0")
            self.sign_in(self.migrated(self.alice))
            self.assertEqual(self.signed_in_as(), str(self.alice.pk), "the login itself goes on")
            self.assertFalse(User.objects.get(pk=self.alice.pk).has_usable_password())
            self.assertIsNone(model_backend.authenticate(None, username=alice, password="pw"), "no back door")
            self.assertIsNotNone(model_backend.authenticate(None, username=self.sam.get_username(), password="pw"),
                                 "nobody else's")
            with self.assertNumQueries(1):  # the user, and no write: it is already unusable
                self.assertEqual(Auth0Backend().authenticate(None, auth0_claims=self.migrated(self.alice)), self.alice)
            self.assertIsNone(Auth0Backend().authenticate(None, auth0_claims=self.migrated(self.ian)))
            self.assertTrue(User.objects.get(pk=self.ian.pk).has_usable_password(), "a refused login retires nothing")

    def test_logout_ends_both_sessions(self):
        self.sign_in(self.migrated(self.alice))
        self.assertEqual(self.client.get("/auth0/logout/").status_code, 405, "POST only: a link cannot log anyone out")
        answer = self.client.post("/auth0/logout/")
        self.assertTrue(answer["Location"].startswith(f"{TENANT['url']}/v2/logout?client_id="))
        self.assertIsNone(self.signed_in_as())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ExportFromSettings(TransactionTestCase):
    """`manage.py djedge_export` reads the model's own tables and columns;
    `djedge serve` over the snapshot agrees with Django's ModelBackend."""

    def test_logins_through_the_snapshot_agree_with_model_backend(self):
        editors = Group.objects.create(name="editors")
        people = {
            "alice@example.com": ("wonderland", {}),
            "sam@example.com": ("pw-staff", {"is_staff": True}),
            "ian@example.com": ("pw-inactive", {"is_active": False}),
            "zoë@example.com": ("pässwörd", {}),
        }
        for email, (password, fields) in people.items():
            make_user(email, password, **fields)
        User.objects.get(email="sam@example.com").groups.add(editors)
        with tempfile.TemporaryDirectory() as out:
            call_command("djedge_export", out=f"{out}/snap")
            token = "django-tests-token-0123456789"
            port = free_port()
            serve = subprocess.Popen(
                [djedge_binary(), "serve", "--snapshot", f"{out}/snap", "--listen", f"127.0.0.1:{port}"],
                env={**os.environ, "DJEDGE_API_TOKEN": token},
            )
            try:
                base = f"http://127.0.0.1:{port}"
                headers = {"authorization": f"Bearer {token}"}
                for _ in range(100):
                    try:
                        requests.get(f"{base}/v1/health", headers=headers, timeout=2)
                        break
                    except requests.ConnectionError:
                        time.sleep(0.1)
                backend = ModelBackend()
                for email, (password, _) in people.items():
                    user = User.objects.get(email=email)
                    login = user.get_username()
                    for attempt in (password, password + "x", ""):
                        answer = requests.post(f"{base}/v1/login", json={"username": login, "password": attempt},
                                               headers=headers, timeout=30)
                        django_says = backend.authenticate(None, username=login, password=attempt) is not None
                        self.assertEqual(answer.status_code == 200, django_says, f"{login} {attempt!r}: {answer.text}")
                        if answer.status_code == 200:
                            profile = answer.json()
                            self.assertEqual(profile["user_id"], f"django_{user.pk}")
                            self.assertEqual(profile["app_metadata"]["django"]["is_staff"], user.is_staff)
                            self.assertEqual(profile["app_metadata"]["django"]["groups"],
                                             sorted(g.name for g in user.groups.all()))
            finally:
                serve.terminate()
                serve.wait(10)

    def test_a_failed_export_says_so_and_prints_no_password(self):
        # A server that is not there, with a password of every awkward
        # character (testsite/settings.py adds it for this run only).
        with tempfile.TemporaryDirectory() as out:
            failed = subprocess.run(
                [sys.executable, "-m", "django", "djedge_export", "--out", f"{out}/snap", "--database", "broken"],
                env={**os.environ, "DJEDGE_TEST_BROKEN_DATABASE": "1"}, capture_output=True, text=True, timeout=120,
            )
            self.assertNotEqual(failed.returncode, 0)
            self.assertIn("djedge export failed with exit code", failed.stderr)
            self.assertNotIn("s3cr", failed.stdout + failed.stderr)
            self.assertFalse(os.path.exists(f"{out}/snap/manifest.json"))


class AuditFromSettings(TransactionTestCase):
    """`manage.py djedge_audit` names, from the site's own database, the
    users Auth0 could not create, in the mode the settings name."""

    def test_the_audit_names_who_cannot_land_and_nobody_else(self):
        from io import StringIO

        make_user("dup@example.com")
        make_user("DUP@example.com")
        make_user("fine@example.com")
        out = StringIO()
        call_command("djedge_audit", json=True, stdout=out)
        audit = json.loads(out.getvalue())
        self.assertEqual(audit["identifiers"], "email")
        self.assertEqual(audit["by_reason"]["shared_email"], 2)
        self.assertEqual(sorted(b["email"] for b in audit["blocked"]), ["DUP@example.com", "dup@example.com"])
        self.assertEqual((audit["users"], audit["land"]), (3, 1))
        with override_settings(DJEDGE_IDENTIFIERS="username"):
            out = StringIO()
            call_command("djedge_audit", stdout=out)
            self.assertIn("in username mode 1 land in Auth0", out.getvalue())


class SyncFromSettings(TransactionTestCase):
    """`manage.py djedge_sync` pushes the site's users to Workers KV (a local
    server written from Cloudflare's KV API documentation,
    tests/cloudflare/kv.mjs), and a second run carries a deactivation and a
    deletion there."""

    def test_two_syncs_follow_the_site(self):
        token = "cloudflare-test-token"
        kv = subprocess.Popen(["node", "../cloudflare/kv.mjs", "--token", token], stdout=subprocess.PIPE, text=True)
        try:
            api = kv.stdout.readline().strip()
            self.assertTrue(api.startswith("http://"), api)
            alice = make_user("alice@example.com", "wonderland")
            make_user("bob@example.com", "builder")

            def stored(username):
                key = quote(f"user/{username}", safe="")
                answer = requests.get(f"{api}/accounts/acc/storage/kv/namespaces/ns/values/{key}",
                                      headers={"authorization": f"Bearer {token}"}, timeout=10)
                return answer.json() if answer.status_code == 200 else None

            with tempfile.TemporaryDirectory() as state:
                sync = {"state_dir": state, "account_id": "acc", "namespace_id": "ns", "api_url": api, "keep": 0}
                os.environ["CLOUDFLARE_API_TOKEN"] = token
                try:
                    call_command("djedge_sync", **sync)
                    self.assertTrue(stored(alice.get_username())["is_active"])
                    self.assertIsNotNone(stored("bob@example.com" if User.USERNAME_FIELD == "email" else "bob"))
                    alice.is_active = False
                    alice.save()
                    User.objects.filter(email="bob@example.com").delete()
                    with self.assertRaisesMessage(CommandError, "djedge sync failed with exit code "):
                        call_command("djedge_sync", **sync, max_deletes=0)
                    self.assertTrue(stored(alice.get_username())["is_active"], "--max-deletes 0 refused the delta")
                    call_command("djedge_sync", **sync)
                finally:
                    del os.environ["CLOUDFLARE_API_TOKEN"]
                self.assertFalse(stored(alice.get_username())["is_active"])
                self.assertIsNone(stored("bob@example.com" if User.USERNAME_FIELD == "email" else "bob"))
                with open(f"{state}/sync-state.json") as f:
                    sync_state = json.load(f)
                self.assertIsNone(sync_state["pending"])
                self.assertEqual(os.listdir(f"{state}/snapshots"), [sync_state["pushed"]], "--keep 0 kept no other")
        finally:
            kv.kill()
            kv.wait(10)


class ProgressFromSettings(TransactionTestCase):
    """`manage.py djedge_progress` and `djedge_migrated` on the site's own
    users, exported there and then, with the edge's migration records."""

    def test_progress_and_the_line_for_cron(self):
        alice = make_user("alice@example.com")
        make_user("bob@example.com")
        make_user("ian@example.com", is_active=False)
        make_user("dup@example.com")
        make_user("DUP@example.com")
        with tempfile.TemporaryDirectory() as scratch:
            migrations = f"{scratch}/migrations.jsonl"
            with open(migrations, "w") as f:
                pk = alice.pk if isinstance(alice.pk, int) else str(alice.pk)
                f.write(json.dumps({"id": pk, "at": "2026-11-01T10:00:00.000Z"}) + "\n")
            out = StringIO()
            call_command("djedge_progress", json=True, migrations=migrations, html=f"{scratch}/progress.html",
                         now="2026-12-01T00:00:00Z", stdout=out)
            progress = json.loads(out.getvalue())
            self.assertEqual((progress["total"]["migrated"], progress["total"]["active"]), (1, 4))
            self.assertEqual(len(progress["cannot_land"]), 2, "dup@ and DUP@ share an address")
            with open(f"{scratch}/progress.html") as f:
                self.assertIn("<svg", f.read())
            out = StringIO()
            call_command("djedge_migrated", migrations=migrations, stdout=out)
            self.assertEqual(out.getvalue(), "djedge: 1 of 4 active users are in Auth0 (25.0%); "
                                             "2 cannot land (manage.py djedge_audit)\n")
            call_command("djedge_export", out=f"{scratch}/snap")
            out = StringIO()
            call_command("djedge_migrated", snapshot=f"{scratch}/snap", stdout=out)
            self.assertEqual(out.getvalue(), "djedge: 0 of 4 active users are in Auth0 (0.0%); "
                                             "2 cannot land (manage.py djedge_audit)\n")
            with self.assertRaisesMessage(CommandError, "djedge progress failed with exit code"):
                call_command("djedge_migrated", migrations=f"{scratch}/none.jsonl", stdout=StringIO())


@contextmanager
def captured_stderr_fd():
    """What child processes write to file descriptor 2 meanwhile: a list
    that holds it once the block ends."""
    sys.stderr.flush()
    written = []
    with tempfile.TemporaryFile(mode="w+") as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield written
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            written.append(captured.read())


def tenant_test(what):
    return requests.get(f"{TENANT['url']}/_test/{what}", timeout=10).json()


class Auth0SetupFromSettings(TransactionTestCase):
    """`manage.py djedge_setup` and `djedge_finish` against the local tenant,
    with the Management API application's credentials from the environment
    and the tenant from DJEDGE_AUTH0_DOMAIN."""

    def setUp(self):
        make_user("alice@example.com")
        make_user("dup@example.com")
        make_user("DUP@example.com")
        self.connection = f"django-tests-{os.getpid()}-{User._meta.model_name}"
        self.secret = TENANT["apps"]["management"]["client_secret"]
        self.credentials = {"AUTH0_CLIENT_ID": TENANT["apps"]["management"]["client_id"],
                            "AUTH0_CLIENT_SECRET": self.secret}

    @contextmanager
    def management_app(self):
        os.environ.update(self.credentials)
        try:
            yield
        finally:
            for name in self.credentials:
                del os.environ[name]

    def manage(self, *arguments, **options):
        """call_command, with what it and the binary print: (stdout, stderr)."""
        out, err = StringIO(), StringIO()
        with captured_stderr_fd() as binary_err:
            call_command(*arguments, stdout=out, stderr=err, **options)
        printed = (out.getvalue(), err.getvalue() + "".join(binary_err))
        for text in printed:
            self.assertNotIn(self.secret, text)
            self.assertNotIn(settings.DJEDGE_AUTH0_CLIENT_SECRET, text)
        return printed

    def connection_state(self):
        return next((c for c in tenant_test("state")["connections"] if c["name"] == self.connection), None)

    def test_setup_then_finish(self):
        setup = {"connection": self.connection, "edge_url": "http://127.0.0.1:9/"}
        with self.assertRaisesMessage(CommandError, "AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET must be set in the "
                                                    "environment to the Management API application's credentials"):
            call_command("djedge_setup", **setup)
        with self.management_app():
            out, err = self.manage("djedge_setup", **setup, dry_run=True)
            state = tenant_test("state")
            self.assertIsNone(self.connection_state(), "--dry-run changes nothing")
            self.assertNotIn(f"djedge ({self.connection})", [c["name"] for c in state["clients"]])
            self.assertIn("2 shared_email", err, "the audit's summary, from a fresh export")

            out, err = self.manage("djedge_setup", **setup)
            self.assertIn(f"DJEDGE_AUTH0_DOMAIN={TENANT['url']}", out)
            self.assertIn("DJEDGE_IDENTIFIERS=email", out)
            options = self.connection_state()["options"]
            self.assertIn("127.0.0.1:9", options["configuration"]["DJEDGE_URL"])
            scripts = options["customScripts"]
            self.assertIn("/v1/login", scripts["login"], "the script that asks the edge")

            self.manage("djedge_finish", connection=self.connection, dry_run=True)
            self.assertEqual(self.connection_state()["options"]["customScripts"], scripts, "--dry-run changes nothing")
            self.manage("djedge_finish", connection=self.connection)
            self.assertNotIn("/v1/login", self.connection_state()["options"]["customScripts"]["login"],
                             "finished: the scripts no longer ask the edge")

    def test_the_mode_comes_from_the_settings(self):
        with self.management_app():
            for mode in ("email", "username"):
                with self.subTest(mode), override_settings(DJEDGE_IDENTIFIERS=mode):
                    out, _ = self.manage("djedge_setup", connection=self.connection, edge_url="http://127.0.0.1:9/",
                                         dry_run=True)
                    self.assertIn(f"DJEDGE_IDENTIFIERS={mode}", out)
            with override_settings(DJEDGE_AUTH0_DOMAIN="example.eu.auth0.com/x"):
                with self.assertRaisesMessage(CommandError, "settings.DJEDGE_AUTH0_DOMAIN must name the Auth0 tenant"):
                    call_command("djedge_finish", connection=self.connection)


class DeployFromSettings(TransactionTestCase):
    """The README's route: four settings and `manage.py djedge_deploy`, from
    the installed wheel (whose binary carries the Worker), against the local
    Cloudflare API (tests/cloudflare/api.mjs, which runs what is uploaded to
    it in local workerd) and the local tenant. The Worker then answers the
    site's users."""

    token = "cloudflare-deploy-test-token"
    account = "0123456789abcdef0123456789abcdef"

    def setUp(self):
        if os.environ.get("DJEDGE_TEST_DATABASE") != "sqlite":
            self.skipTest("one deploy per Django version and user model is enough (the export is the same code)")
        self.cloudflare = subprocess.Popen(["node", "../cloudflare/api.mjs", "--token", self.token,
                                            "--account", self.account], stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.cloudflare.wait, 30)
        self.addCleanup(self.cloudflare.terminate)
        self.api = self.cloudflare.stdout.readline().strip()
        self.assertTrue(self.api.startswith("http://"), self.api)
        origin = self.api.removesuffix("/client/v4")
        self.worker = requests.post(f"{origin}/_test/workers-dev/djedge", timeout=30).json()["url"]
        self.requests = lambda: requests.get(f"{origin}/_test/requests", timeout=10).json()
        self.state = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.state, True)
        self.environment = {"CLOUDFLARE_API_TOKEN": self.token,
                            "AUTH0_CLIENT_ID": TENANT["apps"]["management"]["client_id"],
                            "AUTH0_CLIENT_SECRET": TENANT["apps"]["management"]["client_secret"]}

    def carried_worker(self):
        """Whether the installed binary carries the Worker (a wheel built with
        DJEDGE_WORKER_DIR, as test_django.sh builds it); a plain `pip install .`
        does not, and deploy then says how to get one before anything else."""
        tried = subprocess.run(
            [djedge_binary(), "deploy", "--dry-run", "--state-dir", self.state, "--account-id", self.account,
             "--domain", "example.auth0.com", "--connection", "c", "--database", "sqlite:///none",
             "--api-url", "http://127.0.0.1:9", "--attempts", "1"],
            capture_output=True, text=True, env={**os.environ, **self.environment})
        if "carries no Worker" in tried.stderr:
            self.assertIn("pass --worker crates/worker/build", tried.stderr)
            return False
        self.assertIn("the dry run stopped at the KV namespace", tried.stderr)
        return True

    def deploy(self, **options):
        out = StringIO()
        if not self.carried_worker():
            built = os.path.join(os.path.dirname(__file__), "..", "..", "..", "crates", "worker", "build")
            self.assertTrue(os.path.isdir(built), "no Worker in the binary, and none built (scripts/build-worker.sh)")
            options.setdefault("worker", built)
        with mock.patch.dict(os.environ, self.environment):
            call_command("djedge_deploy", api_url=self.api, edge_url=self.worker, edge_timeout=60, stdout=out, **options)
        return out.getvalue()

    def test_four_settings_and_one_command(self):
        make_user("alice@example.com", "wonderland")
        connection = f"django-deploy-{os.getpid()}-{User._meta.model_name}"
        with self.assertRaisesMessage(CommandError, "Set DJEDGE_STATE_DIR (or --state-dir), "
                                                    "DJEDGE_CLOUDFLARE_ACCOUNT_ID (or --account-id), "
                                                    "DJEDGE_AUTH0_CONNECTION (or --connection)."):
            self.deploy()
        with override_settings(DJEDGE_STATE_DIR=self.state, DJEDGE_CLOUDFLARE_ACCOUNT_ID=self.account,
                               DJEDGE_AUTH0_CONNECTION=connection):
            self.deploy(dry_run=True)
            self.assertEqual([r for r in self.requests() if r["method"] != "GET"], [], "--dry-run writes nothing")
            url = self.deploy().splitlines()[-1]
        self.assertEqual(url, self.worker)
        script = next(c for c in tenant_test("state")["connections"] if c["name"] == connection)["options"]
        configuration = script["configuration"]
        token = requests.post(f"{TENANT['url']}/oauth/token", timeout=10, json={
            "grant_type": "client_credentials", "client_id": configuration["DJEDGE_CLIENT_ID"],
            "client_secret": configuration["DJEDGE_CLIENT_SECRET"], "audience": configuration["DJEDGE_AUDIENCE"],
        }).json()["access_token"]
        login = requests.post(f"{self.worker}/v1/login", timeout=30, headers={"authorization": f"Bearer {token}"},
                              json={"username": "alice@example.com", "password": "wonderland"})
        self.assertEqual(login.status_code, 200, login.text)
        self.assertEqual(login.json()["email"], "alice@example.com")

        # Then sync keeps it current from the same settings alone.
        make_user("bob@example.com", "builder")
        with override_settings(DJEDGE_STATE_DIR=self.state, DJEDGE_CLOUDFLARE_ACCOUNT_ID=self.account), \
                mock.patch.dict(os.environ, self.environment):
            call_command("djedge_sync", api_url=self.api, stdout=StringIO())
        login = requests.post(f"{self.worker}/v1/login", timeout=30, headers={"authorization": f"Bearer {token}"},
                              json={"username": "bob@example.com", "password": "builder"})
        self.assertEqual(login.status_code, 200, login.text)


class Commands(SimpleTestCase):
    """What the djedge_* commands hand the binary."""

    def test_sync_export_and_progress_take_every_flag_of_the_binary(self):
        model_flags = {a for a in export_arguments() if a.startswith("--")}
        for name, subcommand in (("djedge_sync", "sync"), ("djedge_export", "export"),
                                 ("djedge_progress", "progress")):
            shown = subprocess.run([djedge_binary(), subcommand, "--help"], capture_output=True, text=True, check=True)
            # --database: the URL goes in the environment, from the command's own --database (an alias).
            binary_flags = set(re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", shown.stdout, re.M))
            binary_flags -= {"--help", "--database"}
            command_flags = set(re.findall(r"--[a-z0-9-]+", load_command_class("djedge", name).create_parser(
                "manage.py", name).format_help()))
            self.assertEqual(binary_flags - model_flags - command_flags, set(), name)

    def test_a_binary_that_cannot_start_is_one_sentence(self):
        with override_settings(DJEDGE_BINARY="/nonexistent/djedge"):
            with self.assertRaisesMessage(CommandError, "djedge export could not start (/nonexistent/djedge: "):
                call_command("djedge_export", out="/nonexistent/snap")


class SystemChecks(SimpleTestCase):
    """`manage.py check` says what is wrong with the settings, by id."""

    def test_the_test_site_has_nothing_to_fix(self):
        self.assertEqual(djedge_check_ids(), [])

    def test_manage_py_check_names_the_missing_auth0_settings(self):
        with site_settings(*AUTH0_SETTINGS):
            with self.assertRaises(SystemCheckError) as raised:
                call_command("check", stdout=StringIO(), stderr=StringIO())
            self.assertEqual(djedge_check_ids(), ["djedge.E001", "djedge.E003", "djedge.E004"])
        for check_id in ("djedge.E001", "djedge.E003", "djedge.E004"):
            self.assertIn(f"({check_id})", str(raised.exception))

    def test_a_site_that_only_exports_needs_no_auth0_settings(self):
        with site_settings(*AUTH0_SETTINGS, ROOT_URLCONF=__name__, AUTHENTICATION_BACKENDS=[MODEL_BACKEND],
                           DJEDGE_ADMIN_LOGIN=False):
            self.assertEqual(djedge_check_ids(), [])

    def test_the_domain_is_a_host_or_an_http_url_and_nothing_else(self):
        bases = {
            "example.eu.auth0.com": "https://example.eu.auth0.com",
            "login.example.com": "https://login.example.com",
            "https://example.eu.auth0.com/": "https://example.eu.auth0.com",
            "http://127.0.0.1:8799": "http://127.0.0.1:8799",
            "https://[::1]:8443": "https://[::1]:8443",
        }
        for domain, base in bases.items():
            with self.subTest(domain), override_settings(DJEDGE_AUTH0_DOMAIN=domain):
                self.assertEqual(djedge_check_ids(), [])
                self.assertEqual((djedge_settings().auth0.base_url, djedge_settings().auth0.issuer), (base, base + "/"))
        malformed = [
            "example.eu.auth0.com/tenant", "https://example.eu.auth0.com/?x=1", "https://example.eu.auth0.com#x",
            "exa mple.eu.auth0.com", " example.eu.auth0.com", "example.eu.auth0.com\n", "ftp://example.eu.auth0.com",
            "https://", "https://user:pw@example.eu.auth0.com", "https://example.eu.auth0.com:99999",
            "example.eu.auth0.com:port", "//example.eu.auth0.com", 42, b"example.eu.auth0.com",
        ]
        for domain in malformed:
            with self.subTest(domain), override_settings(DJEDGE_AUTH0_DOMAIN=domain):
                self.assertEqual(djedge_check_ids(), ["djedge.E002"])
                self.assertIsNone(djedge_settings().auth0)

    def test_settings_of_the_wrong_kind(self):
        cases = [
            ({"DJEDGE_ADMIN_LOGIN": "yes"}, ["djedge.E005"]),
            ({"DJEDGE_CREATE_USERS": 1}, ["djedge.E006"]),
            ({"DJEDGE_IDENTIFIERS": "phone"}, ["djedge.E007"]),
            ({"DJEDGE_RETIRE_LOCAL_PASSWORDS": "yes"}, ["djedge.E009"]),
            ({"DJEDGE_RETIRE_LOCAL_PASSWORDS": True}, []),
            ({"DJEDGE_IDENTIFIERS": "username"}, []),
            ({"DJEDGE_AUTH0_CLIENT_ID": 1234}, ["djedge.E003"]),
            ({"DJEDGE_BINARY": "/nonexistent/djedge"}, ["djedge.W001"]),
            ({"DJEDGE_BINARY": settings.BASE}, ["djedge.W001"]),
            ({"DJEDGE_BINARY": djedge_binary()}, []),
            # djedge's password forms are served (testsite.urls, the admin site).
            ({"DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID": None}, ["djedge.W004"]),
            ({"DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET": ""}, ["djedge.W004"]),
        ]
        for overrides, ids in cases:
            with self.subTest(overrides), override_settings(**overrides):
                self.assertEqual(djedge_check_ids(), ids)
        with override_settings(DJEDGE_AUTH0_CLIENT_SECRET=12345678):
            self.assertNotIn("12345678", " ".join(m.msg for m in run_checks()), "a secret is never quoted")
        with override_settings(DJEDGE_ADMIN_LOGIN="no", DJEDGE_CREATE_USERS="yes", DJEDGE_RETIRE_LOCAL_PASSWORDS=1):
            conf = djedge_settings()
            self.assertEqual((conf.admin_login, conf.create_users, conf.retire_local_passwords), (True, False, False),
                             "until fixed, the safer meaning")

    def test_the_password_forms_need_the_management_app_only_where_served(self):
        # A site with only the admin: its own change page is djedge's (testsite's INSTALLED_APPS).
        with override_settings(ROOT_URLCONF=__name__, AUTHENTICATION_BACKENDS=[MODEL_BACKEND], DJEDGE_ADMIN_LOGIN=False,
                               DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID=None):
            self.assertEqual(djedge_check_ids(), ["djedge.W004"], "the admin's own change page is djedge's")
            with mock.patch.object(admin.site, "password_change_form", None):
                self.assertEqual(djedge_check_ids(), [], "nothing of djedge's served")
            with mock.patch.dict(os.environ, {"AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "secret"}):
                self.assertEqual(djedge_check_ids(), [], "the environment's")

    def test_how_the_site_wires_djedge_in(self):
        cases = [
            ({"ROOT_URLCONF": __name__, "DJEDGE_ADMIN_LOGIN": False}, ["djedge.W002"]),
            ({"ROOT_URLCONF": __name__}, ["djedge.E008"]),
            ({"AUTHENTICATION_BACKENDS": [MODEL_BACKEND]}, ["djedge.W003"]),
            ({"AUTHENTICATION_BACKENDS": [MODEL_BACKEND, f"{__name__}.SiteBackend"]}, []),
        ]
        for overrides, ids in cases:
            with self.subTest(overrides), override_settings(**overrides):
                self.assertEqual(djedge_check_ids(), ids)


class WithoutSettings(TestCase):
    """Settings wrong at request time anyway (checks not run): a 503 that
    the log explains, never a 500; logout still ends the Django session."""

    def test_no_request_reaches_a_500(self):
        sam = make_user("sam@example.com", is_staff=True)
        with site_settings(*AUTH0_SETTINGS), self.assertLogs("djedge.views", "ERROR") as logged:
            for url in ("/auth0/login/?next=/x", "/auth0/callback/?code=c&state=s", "/admin/login/?next=/admin/"):
                answer = self.client.get(url, follow=True)
                self.assertEqual(answer.status_code, 503, url)
            self.client.force_login(sam)
            answer = self.client.post("/auth0/logout/")
            self.assertEqual((answer.status_code, answer["Location"]), (302, "http://testserver/"))
            self.assertNotIn("_auth_user_id", self.client.session)
        self.assertIn("DJEDGE_AUTH0_DOMAIN is not set", logged.output[0])
        with override_settings(ROOT_URLCONF=__name__), self.assertLogs("djedge.views", "ERROR") as logged:
            self.assertEqual(self.client.get("/admin/login/").status_code, 503)
        self.assertIn("djedge.E008", logged.output[0])

    def test_a_tenant_that_does_not_answer_is_a_503_not_a_refusal(self):
        with override_settings(DJEDGE_AUTH0_DOMAIN=f"http://127.0.0.1:{free_port()}"), \
                self.assertLogs("djedge.views", "ERROR") as logged:
            self.assertEqual(self.client.get("/auth0/login/").status_code, 503)
        self.assertIn("did not answer", logged.output[0])


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OLD, NEW = "old-Passw0rd-one", "new-Passw0rd-two"


class QuickHasher(PBKDF2PasswordHasher):
    """Django's default hasher at a test's cost: these tests check who holds
    which password, many times over, not how well it is hashed."""

    iterations = 1000


@override_settings(PASSWORD_HASHERS=[f"{__name__}.QuickHasher"])
class OnePasswordPerPerson(TestCase):
    """Django's password change, reset and admin forms with djedge's
    (djedge.password_urls, djedge.admin): a person Auth0 has gets the new
    password there too, checked by logging in on the tenant's hosted login
    page; one it has not keeps Django's flow. Against a tenant of this class's
    own (tests/auth0/tenant.mjs), whose users each test sets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        scratch = tempfile.mkdtemp(prefix="djedge-tenant-")
        state = os.path.join(scratch, "tenant.json")
        tenant = subprocess.Popen(["node", os.path.join(ROOT, "tests/auth0/tenant.mjs"), "--port", "0", "--state", state],
                                  stdout=subprocess.DEVNULL)
        cls.addClassCleanup(tenant.wait, 10)
        cls.addClassCleanup(tenant.terminate)
        for _ in range(100):
            if os.path.exists(state) and os.path.getsize(state):
                break
            time.sleep(0.1)
        with open(state) as f:
            cls.tenant = json.load(f)
        cls.url = cls.tenant["url"]
        cls.passwords_app = cls.tenant["apps"]["passwords"]
        overrides = override_settings(
            DJEDGE_AUTH0_DOMAIN=cls.url,
            DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID=cls.passwords_app["client_id"],
            DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET=cls.passwords_app["client_secret"],
        )
        overrides.enable()
        cls.addClassCleanup(overrides.disable)

    def setUp(self):
        self.alice = make_user("alice@example.com", OLD)  # in Auth0
        self.sam = make_user("sam@example.com", OLD, is_staff=True, is_superuser=True)  # in Auth0, staff
        self.bob = make_user("bob@example.com", OLD)  # not in Auth0
        in_auth0 = [{"user_id": f"auth0|django_{u.pk}", "email": u.email, "connection": "djedge-users", "password": OLD}
                    for u in (self.alice, self.sam)]
        requests.post(f"{self.url}/_test/users", json={"users": in_auth0, "replace": True}, timeout=10).raise_for_status()
        for user in (self.alice, self.sam):
            self.assertTrue(self.auth0_accepts(user, OLD), "in Auth0 with the old password to begin with")

    def auth0_accepts(self, user, password) -> bool:
        """Whether the tenant's hosted login page lets `user` in with `password`."""
        client = self.tenant["apps"]["django"]["client_id"]
        page = requests.get(f"{self.url}/authorize", timeout=10, params={
            "client_id": client, "response_type": "code", "redirect_uri": "http://testserver/auth0/callback/",
            "state": "s", "nonce": "n", "scope": "openid email"})
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)[1].replace("&amp;", "&")
        answer = requests.post(f"{self.url}{action}", data={"username": user.email, "password": password},
                               allow_redirects=False, timeout=30)
        self.assertIn(answer.status_code, (302, 400), answer.text)
        return answer.status_code == 302 and "code=" in answer.headers["location"]

    def auth0_password_changes(self):
        return requests.get(f"{self.url}/_test/stats", timeout=10).json()["passwordChanges"]

    def django_password(self, user):
        return User.objects.get(pk=user.pk).password

    def assert_one_new_password(self, user):
        self.assertTrue(self.auth0_accepts(user, NEW), "Auth0 has the new password")
        self.assertFalse(self.auth0_accepts(user, OLD), "and refuses the old one")
        stored = User.objects.get(pk=user.pk)
        self.assertTrue(stored.check_password(NEW), "Django has the same new password")
        self.assertFalse(stored.check_password(OLD))

    def change(self, user, old=OLD):
        self.client.force_login(user)
        return self.client.post("/accounts/password_change/",
                                {"old_password": old, "new_password1": NEW, "new_password2": NEW})

    def admin_reset(self, user):
        self.client.force_login(self.sam)
        meta = User._meta
        return self.client.post(f"/admin/{meta.app_label}/{meta.model_name}/{user.pk}/password/",
                                {"password1": NEW, "password2": NEW, "usable_password": "true"})

    def test_a_change_through_the_site(self):
        answer = self.change(self.alice)
        self.assertEqual((answer.status_code, answer["Location"]), (302, "/accounts/password_change/done/"))
        self.assert_one_new_password(self.alice)
        self.assertEqual(self.client.get("/").content.decode(), f"hello {self.alice.get_username()}",
                         "still signed in on the site")

    def test_a_reset_through_the_site(self):
        from django.core import mail

        self.assertEqual(self.client.post("/accounts/password_reset/", {"email": self.alice.email}).status_code, 302)
        link = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body)[1]
        form_url = self.client.get(link)["Location"]
        answer = self.client.post(form_url, {"new_password1": NEW, "new_password2": NEW})
        self.assertEqual((answer.status_code, answer["Location"]), (302, "/accounts/reset/done/"))
        self.assert_one_new_password(self.alice)

    def test_the_admin_reset_form_for_another_user(self):
        answer = self.admin_reset(self.alice)
        self.assertEqual(answer.status_code, 302, answer.content.decode()[:2000])
        self.assert_one_new_password(self.alice)

    def test_the_admin_own_change_password_page(self):
        self.client.force_login(self.sam)
        answer = self.client.post("/admin/password_change/",
                                  {"old_password": OLD, "new_password1": NEW, "new_password2": NEW})
        self.assertEqual((answer.status_code, answer["Location"]), (302, "/admin/password_change/done/"))
        self.assert_one_new_password(self.sam)

    def test_a_kept_token_the_tenant_no_longer_takes_is_replaced(self):
        self.assertEqual(self.change(self.alice).status_code, 302)
        requests.post(f"{self.url}/_test/forget-management-tokens", timeout=10).raise_for_status()
        self.assertEqual(self.change(self.alice, old=NEW).status_code, 302, "a fresh token, not an error")
        self.assertTrue(self.auth0_accepts(self.alice, NEW))

    def test_a_user_not_in_auth0_keeps_django_flow(self):
        before = self.auth0_password_changes()
        self.assertEqual(self.change(self.bob).status_code, 302)
        self.assertTrue(User.objects.get(pk=self.bob.pk).check_password(NEW), "Django's hash changed")
        self.assertEqual(self.auth0_password_changes(), before, "nothing was set in Auth0")
        users = requests.get(f"{self.url}/_test/users", timeout=10).json()["users"]
        self.assertNotIn(f"auth0|django_{self.bob.pk}", [u["user_id"] for u in users], "and nobody made there")
        self.assertFalse(self.auth0_accepts(self.bob, NEW))
        self.assertEqual(self.admin_reset(self.bob).status_code, 302, "the admin's form too")
        self.assertEqual(self.auth0_password_changes(), before)

    def test_a_failing_management_api_call_changes_neither_password(self):
        reader = self.tenant["apps"]["users-reader"]  # read:users, but not update:users
        secret = self.passwords_app["client_secret"]
        failures = {
            "PATCH refused (no update:users)": {"DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID": reader["client_id"],
                                                "DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET": reader["client_secret"]},
            "token refused (a wrong secret)": {"DJEDGE_AUTH0_MANAGEMENT_CLIENT_SECRET": secret[::-1]},
            "the tenant does not answer": {"DJEDGE_AUTH0_DOMAIN": f"http://127.0.0.1:{free_port()}"},
            "no Management API application": {"DJEDGE_AUTH0_MANAGEMENT_CLIENT_ID": None},
        }
        for name, overrides in failures.items():
            for what, attempt in (("change", lambda: self.change(self.alice)),
                                  ("admin", lambda: self.admin_reset(self.alice))):
                with self.subTest(name, form=what), override_settings(**overrides), \
                        self.assertLogs("djedge.forms", "ERROR") as logged:
                    before = self.django_password(self.alice)
                    answer = attempt()
                    self.assertEqual(answer.status_code, 200, "the form again, with the error")
                    errors = answer.context["form"].non_field_errors()
                    self.assertEqual(errors, ["The password could not be changed right now, and nothing was changed. "
                                              "Please try again later."])
                    self.assertEqual(self.django_password(self.alice), before, "Django's password unchanged")
                    self.assertTrue(self.auth0_accepts(self.alice, OLD), "Auth0's unchanged")
                    self.assertFalse(self.auth0_accepts(self.alice, NEW))
                    shown = answer.content.decode() + " ".join(logged.output)
                    for secret_text in (NEW, OLD, secret, reader["client_secret"], "Bearer"):
                        self.assertNotIn(secret_text, shown)

    def test_auth0_password_policy_refusal_is_shown_as_auth0_words_it(self):
        # The tenant's djedge-users connection wants 10 characters at least; Django here no minimum.
        before = self.django_password(self.alice)
        self.client.force_login(self.alice)
        with self.assertLogs("djedge.forms", "ERROR"):
            answer = self.client.post("/accounts/password_change/",
                                      {"old_password": OLD, "new_password1": "short-pw1", "new_password2": "short-pw1"})
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.context["form"].non_field_errors(),
                         ["Auth0 refused the new password: PasswordStrengthError: Password is too weak"])
        self.assertEqual(self.django_password(self.alice), before)
        self.assertTrue(self.auth0_accepts(self.alice, OLD))

    def test_retired_local_passwords_stay_retired_for_people_in_auth0(self):
        with override_settings(DJEDGE_RETIRE_LOCAL_PASSWORDS=True):
            self.assertEqual(self.admin_reset(self.alice).status_code, 302)
            self.assertEqual(self.admin_reset(self.bob).status_code, 302)
        self.assertTrue(self.auth0_accepts(self.alice, NEW))
        self.assertFalse(self.auth0_accepts(self.alice, OLD))
        self.assertFalse(User.objects.get(pk=self.alice.pk).has_usable_password(), "Auth0 alone holds it")
        backend = ModelBackend()
        for password in (OLD, NEW):
            self.assertIsNone(backend.authenticate(None, username=self.alice.get_username(), password=password))
        self.assertIsNotNone(backend.authenticate(None, username=self.bob.get_username(), password=NEW),
                             "not in Auth0: Django's password, as before")
