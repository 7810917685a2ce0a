"""Export speed: a Django-shaped database of N users (made with Django's
ORM), a full `djedge export`, then 100 changed users and a delta export.

    benches/export_bench.sh            # 1,000,000 users, SQLite and PostgreSQL
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "django_site"))
warnings.simplefilter("ignore")

parser = argparse.ArgumentParser()
parser.add_argument("--database", required=True)
parser.add_argument("--users", type=int, default=1_000_000)
parser.add_argument("--djedge", required=True)
args = parser.parse_args()

from make_db_settings import configure  # noqa: E402

configure(args.database, custom=False)
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

call_command("migrate", verbosity=0)
start = time.perf_counter()
User.objects.all().delete()
Group.objects.all().delete()
staff = Group.objects.create(name="staff")
# Real Django hashes; a handful reused (hashing a million would take days).
hashes = [make_password("pw-%d" % i, hasher="pbkdf2_sha256") for i in range(4)]
hashes += [make_password("pw-md5", hasher="md5"), "!unusable"]
joined = datetime(2020, 1, 1, tzinfo=timezone.utc)
batch = []
for i in range(args.users):
    batch.append(User(
        username="user%07d" % i, email="user%07d@example.com" % (i - i % 1000 if i % 997 == 0 else i),
        first_name="First%d" % i, last_name="Last", password=hashes[i % len(hashes)],
        is_active=i % 20 != 0, is_staff=i % 100 == 0, date_joined=joined, last_login=joined if i % 3 else None,
    ))
    if len(batch) == 20_000:
        User.objects.bulk_create(batch)
        batch = []
User.objects.bulk_create(batch)
through = User.groups.through
through.objects.bulk_create([through(user_id=uid, group_id=staff.id) for uid in User.objects.filter(is_staff=True).values_list("id", flat=True)])
print("made %d users in %.0f s" % (User.objects.count(), time.perf_counter() - start), file=sys.stderr)
connection.close()

work = tempfile.mkdtemp()


def export(out, previous=None):
    cmd = [args.djedge, "export", "--database", args.database, "--out", os.path.join(work, out)]
    if previous:
        cmd += ["--previous", os.path.join(work, previous)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


full = export("full")
# Offset by one: every 20th user is already inactive.
ids = list(User.objects.order_by("id").values_list("id", flat=True)[1 : args.users : args.users // 100])[:100]
for n, uid in enumerate(ids):
    change = {"is_active": False} if n % 2 else {"password": make_password("new-%d" % n, hasher="md5")}
    User.objects.filter(id=uid).update(**change)
connection.close()
delta = export("delta", previous="full")
puts = json.load(open(os.path.join(work, "delta", "manifest.json")))["puts"]
print("%s: %d users; full export %.2f s (%.0f users/s); delta of %d changed users %.2f s (%.1f%% of full), %d entries put"
      % (args.database.split(":")[0], args.users, full, args.users / full, len(ids), delta, 100 * delta / full, puts))
shutil.rmtree(work)
