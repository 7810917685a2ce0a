"""Time the same Django password fields three ways in one run and print the
ratios: Django's own check_password, native `djedge verify`, and djhash in
Wasm under node. Run by benches/compare.sh, once per Django version (the
newest for today's formats at today's defaults, 4.2 LTS for the legacy ones).

    python compare.py --djedge target/release/djedge --wasm-pkg target/djhash-wasm-node/djhash_wasm.js
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import warnings

import django
from django.conf import settings

warnings.simplefilter("ignore")
PREFIX = "django.contrib.auth.hashers."
WANTED = ["PBKDF2PasswordHasher", "PBKDF2SHA1PasswordHasher", "Argon2PasswordHasher", "BCryptSHA256PasswordHasher",
          "BCryptPasswordHasher", "ScryptPasswordHasher", "MD5PasswordHasher", "SHA1PasswordHasher",
          "UnsaltedSHA1PasswordHasher", "UnsaltedMD5PasswordHasher", "CryptPasswordHasher"]
import importlib  # noqa: E402

_module = importlib.import_module("django.contrib.auth.hashers")
settings.configure(PASSWORD_HASHERS=[PREFIX + h for h in WANTED if hasattr(_module, h)])
django.setup()
from django.contrib.auth import hashers  # noqa: E402

# Django 5.2's defaults, the targets of the issue's speed goals.
CURRENT_DEFAULTS = {"pbkdf2_sha256": 1_000_000, "pbkdf2_sha1": 1_000_000}
PASSWORD = "correct horse battery staple"


def fields(only_legacy):
    """(label, encoded) made by this Django at the current default costs."""
    made = []
    modern = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5"]
    legacy = ["sha1", "unsalted_sha1", "unsalted_md5", "crypt"]
    for name in legacy if only_legacy else modern:
        try:
            hasher = hashers.get_hasher(name)
        except ValueError:
            continue
        if name in CURRENT_DEFAULTS:
            hasher.iterations = CURRENT_DEFAULTS[name]
        if name == "scrypt":
            for p in (1, 5):  # Django 4.x wrote p=1, 5.x writes p=5.
                hasher.parallelism = p
                made.append(("scrypt p=%d" % p, hasher.encode(PASSWORD, hasher.salt())))
            continue
        salt = "ab" if name == "crypt" else ("" if name.startswith("unsalted") else hasher.salt())
        made.append((name, hasher.encode(PASSWORD, salt)))
    return made


def repeat_for(seconds_per_call, budget=2.0):
    return max(3, min(200_000, int(budget / max(seconds_per_call, 1e-7))))


def time_django(encoded):
    assert hashers.check_password(PASSWORD, encoded)
    start = time.perf_counter()
    hashers.check_password(PASSWORD, encoded)
    n = repeat_for(time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(n):
        hashers.check_password(PASSWORD, encoded)
    return (time.perf_counter() - start) / n, n


def run_djedge(djedge, encoded, n):
    line = (json.dumps({"encoded": encoded, "password": PASSWORD}) + "\n").encode()
    start = time.perf_counter()
    out = subprocess.run([djedge, "verify"], input=line * n, capture_output=True, check=True).stdout
    elapsed = time.perf_counter() - start
    assert out == b'{"ok":true}\n' * n, out[:200]
    return elapsed


def time_native(djedge, encoded, n):
    # Subtract process start-up, measured with a one-line run.
    cheap = "md5$salt$" + hashlib.md5(("salt" + PASSWORD).encode()).hexdigest()
    startup = min(run_djedge(djedge, cheap, 1) for _ in range(3))
    return max(run_djedge(djedge, encoded, n) - startup, 1e-9) / n


def time_wasm(node, pkg, script, encoded, n):
    job = json.dumps({"encoded": encoded, "password": PASSWORD, "repeat": n})
    out = subprocess.run([node, script, pkg], input=job.encode(), capture_output=True, check=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--djedge", required=True)
    parser.add_argument("--wasm-pkg", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--legacy", action="store_true", help="only the hashers Django 5 removed")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasm_verify.mjs")
    rows = []
    print("Django %s; per call: Django check_password, native djedge, Wasm djhash (node %s)" % (
        django.get_version(), subprocess.run([args.node, "--version"], capture_output=True, text=True).stdout.strip()))
    print("| format | params | Django ms | native ms | native/Django | Wasm ms | Wasm/Django | Wasm peak MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, encoded in fields(args.legacy):
        django_s, n = time_django(encoded)
        native_s = time_native(args.djedge, encoded, n)
        wasm = time_wasm(args.node, args.wasm_pkg, script, encoded, max(3, min(n, 20_000)))
        params = "$".join(encoded.split("$")[1:-2])[:40] if "$" in encoded else "bare hex"
        row = {"format": label, "params": params, "django_ms": django_s * 1e3, "native_ms": native_s * 1e3,
               "native_ratio": native_s / django_s, "wasm_ms": wasm["seconds_per_call"] * 1e3,
               "wasm_ratio": wasm["seconds_per_call"] / django_s, "wasm_peak_mib": wasm["memory_bytes"] / 2**20,
               "django": django.get_version()}
        rows.append(row)
        print("| {format} | {params} | {django_ms:.4g} | {native_ms:.4g} | {native_ratio:.2f} | {wasm_ms:.4g} | "
              "{wasm_ratio:.2f} | {wasm_peak_mib:.1f} |".format(**row))
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
