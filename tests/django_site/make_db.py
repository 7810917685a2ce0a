"""Make a Django user database with real Django: its migrations and ORM.

    python make_db.py --database sqlite:///abs/path/db.sqlite3 --model default --passwords out.json
    python make_db.py --database postgres://user:pass@host:5432/db --model custom --passwords out.json

Holds the user shapes a migration meets: every password format, inactive
users, staff and superusers in groups, emails shared in different case,
empty emails, unusable passwords, unicode and '|' in usernames. Writes the
plain-text passwords (for tests) to --passwords.
"""

import argparse
import hashlib
import json
import os
import sys
import warnings
from datetime import datetime, timezone

warnings.simplefilter("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


parser = argparse.ArgumentParser()
parser.add_argument("--database", required=True)
parser.add_argument("--model", choices=["default", "custom"], default="default")
parser.add_argument("--passwords", required=True)
args = parser.parse_args()

import django  # noqa: E402
from make_db_settings import configure  # noqa: E402

custom = args.model == "custom"
configure(args.database, custom)

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import get_hasher, make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
# Empty every table and restart the id sequences (a benchmark may have used
# this database), so the users get the same ids as in the SQLite fixtures.
call_command("flush", interactive=False, verbosity=0)
User = get_user_model()
editors, admins = Group.objects.create(name="editors"), Group.objects.create(name="admins")


def legacy(kind, password, salt="seasalt"):
    """Hashes Django 5 no longer writes but old databases still hold."""
    if kind == "sha1":
        return "sha1$%s$%s" % (salt, hashlib.sha1((salt + password).encode()).hexdigest())
    if kind == "md5":
        return "md5$%s$%s" % (salt, hashlib.md5((salt + password).encode()).hexdigest())
    if kind == "unsalted_sha1":
        return "sha1$$" + hashlib.sha1(password.encode()).hexdigest()
    if kind == "unsalted_md5":
        return hashlib.md5(password.encode()).hexdigest()
    if kind == "crypt":
        import crypt  # deprecated in 3.11, gone in 3.13: only for this legacy format

        return "crypt$$" + crypt.crypt(password, "ab")
    raise ValueError(kind)


FORMATS = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5"]
LEGACY = ["sha1", "unsalted_sha1", "unsalted_md5", "crypt"]
users = []  # (username, email, password or None, extra fields, password field or None)
for name in FORMATS:
    users.append(("user_" + name, "%s@example.com" % name, "pw-" + name, {}, ("hasher", name)))
for name in LEGACY:
    users.append(("legacy_" + name, "%s@legacy.example.com" % name, "pw-" + name, {}, ("legacy", name)))
users += [
    ("alice", "alice@example.com", "wonderland", {"first_name": "Alice", "last_name": "Liddell"}, None),
    ("inactive_ian", "ian@example.com", "pw-inactive", {"is_active": False}, None),
    ("staff_sam", "sam@example.com", "pw-staff", {"is_staff": True, "groups": [editors]}, None),
    ("root_rita", "rita@example.com", "pw-super", {"is_staff": True, "is_superuser": True, "groups": [editors, admins]}, None),
    ("shared_one", "Shared@Example.com", "pw-shared-1", {}, None),
    ("shared_two", "shared@example.com", "pw-shared-2", {}, None),
    ("no_email", "", "pw-no-email", {}, None),
    ("unusable_ulla", "ulla@example.com", None, {}, None),
    ("zoë", "zoe@example.com", "pässwörd-ünïcode", {"first_name": "Zoë"}, None),
    ("用户", "yonghu@example.com", "密码🔑", {}, None),
    ("pipe|user", "pipe@example.com", "pw-pipe", {}, None),
    ("never_logged_in", "never@example.com", "pw-never", {"last_login": None}, None),
    # Django 2.0's default cost: hashes of users who have not logged in since.
    # Within Cloudflare's WebCrypto cap, so the Worker's offload path runs.
    ("legacy_pbkdf2_100k", "pbkdf2_100k@legacy.example.com", "pw-pbkdf2-100k", {}, ("iterations", "pbkdf2_sha256")),
    ("legacy_pbkdf2_sha1_100k", "pbkdf2_sha1_100k@legacy.example.com", "pw-pbkdf2-sha1-100k", {}, ("iterations", "pbkdf2_sha1")),
]

passwords = {}
joined = datetime(2019, 5, 17, 8, 30, 15, 123456, tzinfo=timezone.utc)
for i, (username, email, password, extra, how) in enumerate(users):
    if args.model == "custom":
        if not email or User.objects.filter(email=email).exists():
            continue  # email is the username: unique and required
        fields = {"email": email}
    else:
        fields = {"username": username, "email": email}
    groups = extra.pop("groups", [])
    fields.update(extra)
    fields.setdefault("date_joined", joined.replace(day=1 + i % 28))
    fields.setdefault("last_login", joined.replace(year=2024, month=1 + i % 12))
    user = User(**fields)
    if password is None:
        user.set_unusable_password()
    elif how and how[0] == "legacy":
        user.password = legacy(how[1], password)
    elif how and how[0] == "iterations":
        hasher = get_hasher(how[1])
        user.password = hasher.encode(password, hasher.salt(), iterations=100_000)
    elif how:
        user.password = make_password(password, hasher=how[1])
    else:
        user.set_password(password)
    user.save()
    user.groups.set(groups)
    passwords[getattr(user, User.USERNAME_FIELD)] = password

with open(args.passwords, "w", encoding="utf-8") as f:
    json.dump({"django": django.get_version(), "model": args.model, "passwords": passwords}, f, ensure_ascii=False, indent=1)
print("%s: %d users" % (args.database, User.objects.count()), file=sys.stderr)
