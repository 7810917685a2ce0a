"""Make a Django + django-allauth user database of the identities Auth0 handles badly.

    python make_identities_db.py --database sqlite:///abs/path/db.sqlite3 --passwords out.json
    python make_identities_db.py --database postgres://user:pass@host:5432/db --passwords out.json

Real Django (its migrations and ORM, the default `auth.User`) and real
django-allauth (`allauth.account`: its migrations make `account_emailaddress`,
its `EmailAddress` model writes the verification rows). Passwords are hashed
by Django's own PBKDF2PasswordHasher at 1000 iterations, so tests run fast;
the plain-text passwords (for tests) go to --passwords as
{"django": ..., "allauth": ..., "model": "default", "passwords": {username: password}}
(users without a usable password are left out). Every password is "pw-" and
the username.

The users, in id order (ids 1 to 21 in a new or flushed database):

  plain_pat        pat@example.com, "Pat" "Plain": the control, lands in every
                   mode that keeps a username. allauth: verified, primary.
  élodie           elodie@example.fr, first name "Élodie": a non-ASCII
                   username. allauth: verified.
  pipe|one         pipe@example.org: '|' in the username (Auth0 user ids use
                   '|' as their separator). allauth: an unverified row.
  bob@example.org  bob@example.org: an email-shaped username.
  Bob              bob.upper@example.com, and
  bob              bob.lower@example.com: usernames differing only in case
                   (Django's are case-sensitive, Auth0's are not).
  no_email         "": no email at all.
  share_a          Same@Example.com, and
  share_b          same@example.com: one email in two cases, on two users.
  long_names       long@example.com: first_name and last_name of 150
                   characters each, so the full name is 301 characters (303
                   UTF-8 bytes). first_name is 149 ASCII letters and an 'é'
                   (151 bytes: a 150-byte cut splits the 'é'); last_name has
                   its 'é' at character 148, which in the full name spans
                   bytes 300 and 301 (a 300-byte cut splits it; a
                   300-character cut drops the last letter).
  verified_v       vera@example.com. allauth: verified, primary.
  unverified_u     una@example.com. allauth: verified=False.
  other_verified   own@example.com. allauth holds only a different, verified
                   address (old@example.com), no row for own@example.com: the
                   current email is not verified.
  many_groups      groups@example.com: in all 200 groups, each named with 60
                   characters (some 12 KB of group names, far over a 10 KB
                   profile).
  inactive_ivy     ivy@example.com: is_active=False.
  +15551234567     phone@example.com: a phone-shaped username (Django's
                   validator allows '+').
  a 140-character ASCII username ("long_username_" ten times),
                   longuser@example.com: over Auth0's 128-character limit.
  bad_email        "not-an-email": an email Auth0 refuses (Django's database
                   does not validate it).
  long_local       a 70-character local part @example.com (over the 64 an
                   email address's local part may have).
  unusable_una2    una2@example.com: set_unusable_password(); not in
                   --passwords.
  dot.dash-ok      dot@example.com: punctuation Auth0 accepts in a username.

On MariaDB/MySQL, whose default collation makes usernames unique without
regard to case, `bob` (after `Bob`) is left out: such a site cannot hold both.

The 200 groups come first (ids 1 to 200): "group-NNN-" padded with 'g' to
60 characters.
"""

import argparse
import json
import os
import sys
import warnings
from datetime import datetime, timezone

warnings.simplefilter("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

parser = argparse.ArgumentParser()
parser.add_argument("--database", required=True)
parser.add_argument("--passwords", required=True)
args = parser.parse_args()

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from make_db_settings import HASHERS, database_settings  # noqa: E402

settings.configure(
    # allauth.account needs no django.contrib.sites (only socialaccount does).
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "allauth", "allauth.account"],
    # allauth.account refuses to start without its middleware.
    MIDDLEWARE=["allauth.account.middleware.AccountMiddleware"],
    DATABASES={"default": database_settings(args.database)},
    PASSWORD_HASHERS=HASHERS,
    USE_TZ=True,
)
django.setup()

import allauth  # noqa: E402
from allauth.account.models import EmailAddress  # noqa: E402
from django.contrib.auth.hashers import get_hasher  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
# Empty every table and restart the id sequences, so the ids are the same
# in every database.
call_command("flush", interactive=False, verbosity=0)

groups = [Group.objects.create(name=("group-%03d-" % i).ljust(60, "g")) for i in range(1, 201)]
assert all(len(g.name) == 60 for g in groups)

LONG_FIRST = ("Longfirstname" * 12)[:149] + "é"
LONG_LAST = ("Longlastname" * 13)[:147] + "é" + "nd"
LONG_USERNAME = "long_username_" * 10
LONG_LOCAL = ("long.local.part." * 5)[:70] + "@example.com"
assert len(LONG_FIRST) == len(LONG_LAST) == 150 and len(LONG_USERNAME) == 140
assert len(LONG_LOCAL.split("@")[0]) == 70

# (username, email, extra fields, allauth rows as (email, verified, primary)).
USERS = [
    ("plain_pat", "pat@example.com", {"first_name": "Pat", "last_name": "Plain"}, [("pat@example.com", True, True)]),
    ("élodie", "elodie@example.fr", {"first_name": "Élodie"}, [("elodie@example.fr", True, False)]),
    ("pipe|one", "pipe@example.org", {}, [("pipe@example.org", False, False)]),
    ("bob@example.org", "bob@example.org", {}, []),
    ("Bob", "bob.upper@example.com", {}, []),
    ("bob", "bob.lower@example.com", {}, []),
    ("no_email", "", {}, []),
    ("share_a", "Same@Example.com", {}, []),
    ("share_b", "same@example.com", {}, []),
    ("long_names", "long@example.com", {"first_name": LONG_FIRST, "last_name": LONG_LAST}, []),
    ("verified_v", "vera@example.com", {}, [("vera@example.com", True, True)]),
    ("unverified_u", "una@example.com", {}, [("una@example.com", False, False)]),
    ("other_verified", "own@example.com", {}, [("old@example.com", True, False)]),
    ("many_groups", "groups@example.com", {"groups": groups}, []),
    ("inactive_ivy", "ivy@example.com", {"is_active": False}, []),
    ("+15551234567", "phone@example.com", {}, []),
    (LONG_USERNAME, "longuser@example.com", {}, []),
    ("bad_email", "not-an-email", {}, []),
    ("long_local", LONG_LOCAL, {}, []),
    ("unusable_una2", "una2@example.com", {"unusable": True}, []),
    ("dot.dash-ok", "dot@example.com", {}, []),
]

hasher = get_hasher("pbkdf2_sha256")
passwords = {}
joined = datetime(2020, 3, 9, 14, 5, 30, 654321, tzinfo=timezone.utc)
mysql = args.database.startswith(("mysql://", "mariadb://"))
for i, (username, email, extra, addresses) in enumerate(USERS):
    if mysql and User.objects.filter(username__iexact=username).exists():
        # MariaDB's default collation compares usernames without case: such
        # a site cannot hold Bob beside bob at all.
        continue
    extra = dict(extra)
    user_groups = extra.pop("groups", [])
    unusable = extra.pop("unusable", False)
    user = User(username=username, email=email, **extra)
    user.date_joined = joined.replace(day=1 + i % 28)
    user.last_login = joined.replace(year=2025, month=1 + i % 12)
    if unusable:
        user.set_unusable_password()
    else:
        password = "pw-" + username
        user.password = hasher.encode(password, hasher.salt(), iterations=1000)
        passwords[username] = password
    user.save()
    user.groups.set(user_groups)
    for address, verified, primary in addresses:
        EmailAddress.objects.create(user=user, email=address, verified=verified, primary=primary)

with open(args.passwords, "w", encoding="utf-8") as f:
    json.dump(
        {"django": django.get_version(), "allauth": allauth.__version__, "model": "default", "passwords": passwords},
        f, ensure_ascii=False, indent=1,
    )
print("%s: %d users, %d allauth email addresses" % (args.database, User.objects.count(), EmailAddress.objects.count()),
      file=sys.stderr)
