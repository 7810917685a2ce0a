"""Show djedge's verdicts beside real Django's for one right password, one
wrong password and one malformed field of every format (from the committed
Django 4.2 vectors)."""

import json
import subprocess
import sys

djedge = sys.argv[1]
picked, seen = [], set()
for v in json.load(open("tests/vectors/django-4.2.json", encoding="utf-8"))["vectors"]:
    key = (v["algorithm"], v["case"])
    if v["case"] in ("right", "wrong", "first_72_bytes", "first_8_chars") and key not in seen:
        seen.add(key)
        picked.append(v)
lines = "".join(json.dumps({"encoded": v["encoded"], "password": v["password"]}) + "\n" for v in picked)
answers = subprocess.run([djedge, "verify"], input=lines.encode(), capture_output=True, check=True).stdout.decode().splitlines()
print("%-14s %-15s %-46s %-7s %s" % ("format", "candidate", "Django password field", "Django", "djedge verify"))
for v, answer in zip(picked, answers):
    field = v["encoded"] if len(v["encoded"]) <= 46 else v["encoded"][:43] + "..."
    print("%-14s %-15s %-46s %-7s %s" % (v["algorithm"], v["case"], field, json.dumps(v["django"]), answer))
