"""Measures the edge: CPU per login by hash format in the Worker (local
workerd) and in `djedge serve`, beside Django's own check_password on the
same hashes in the same run; the cost of a login besides the hash; unknown
login versus wrong password; then a bounded load test with latency
percentiles and workerd's memory. Run by benches/edge_bench.sh.

Serial requests on an idle machine: a login's wall time is its CPU time plus
a loopback round trip, which the health check measures on its own.
"""

import argparse
import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
import warnings

import django
from django.conf import settings

warnings.simplefilter("ignore")
import importlib  # noqa: E402

HASHERS = ["PBKDF2PasswordHasher", "PBKDF2SHA1PasswordHasher", "Argon2PasswordHasher", "BCryptSHA256PasswordHasher",
           "BCryptPasswordHasher", "ScryptPasswordHasher", "MD5PasswordHasher", "SHA1PasswordHasher",
           "UnsaltedSHA1PasswordHasher", "UnsaltedMD5PasswordHasher", "CryptPasswordHasher"]
_hashers = importlib.import_module("django.contrib.auth.hashers")
if not settings.configured:  # benches/side_by_side.py imports this after compare.py
    settings.configure(PASSWORD_HASHERS=["django.contrib.auth.hashers." + h for h in HASHERS if hasattr(_hashers, h)])
    django.setup()
from django.contrib.auth.hashers import check_password  # noqa: E402


def post(base, token, path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def timed(fn, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def workerd_rss_mib():
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if b"workerd" not in f.read().split(b"\0")[0]:
                    continue
            with open("/proc/%s/status" % pid) as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


def main():
    parser = argparse.ArgumentParser()
    for name in ("--worker", "--serve", "--token", "--snapshot", "--passwords"):
        parser.add_argument(name, required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--worker-log")
    args = parser.parse_args()

    passwords = json.load(open(args.passwords))["passwords"]
    records = {}
    for file in json.load(open(os.path.join(args.snapshot, "manifest.json")))["files"]:
        for pair in json.load(open(os.path.join(args.snapshot, file["path"]))):
            if pair["key"].startswith("user/"):
                user = json.loads(pair["value"])
                records[user["username"]] = user
    # One active user per hash format and cost.
    chosen = {}
    for username, password in passwords.items():
        user = records[username]
        if password is None or not user["is_active"]:
            continue
        encoded = user["password"]
        parts = encoded.split("$")
        label = parts[0] if len(parts) > 1 else "unsalted_md5"
        if label.startswith("pbkdf2"):
            label += " " + parts[1]
        elif label == "sha1" and parts[1] == "":
            label = "unsalted_sha1"
        chosen.setdefault(label, (username, password, encoded))

    health = timed(lambda: urllib.request.urlopen(urllib.request.Request(
        args.worker + "/v1/health", headers={"authorization": "Bearer " + args.token})).read(), 200)
    serve_health = timed(lambda: urllib.request.urlopen(urllib.request.Request(
        args.serve + "/v1/health", headers={"authorization": "Bearer " + args.token})).read(), 200)
    print("round trip without work (GET /v1/health): Worker %.2f ms, serve %.2f ms\n" % (health, serve_health))
    print("| format | Django check_password | Worker login | Worker / Django | serve login | serve / Django |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = {}
    for label, (username, password, encoded) in sorted(chosen.items()):
        django_ms = timed(lambda: check_password(password, encoded), 3)
        n = 3 if django_ms > 50 else 10 if django_ms > 5 else 100
        django_ms = timed(lambda: check_password(password, encoded), n)
        results = {}
        for name, base in (("worker", args.worker), ("serve", args.serve)):
            status = post(base, args.token, "/v1/login", {"username": username, "password": password})[0]
            assert status == 200, (label, name, status)
            results[name] = timed(lambda: post(base, args.token, "/v1/login", {"username": username, "password": password}), n)
        rows[label] = (django_ms, results)
        print("| %s | %.2f ms | %.2f ms | %.2f | %.2f ms | %.2f |" % (
            label, django_ms, results["worker"], results["worker"] / django_ms, results["serve"], results["serve"] / django_ms))

    cheap = rows.get("unsalted_md5")
    if cheap:
        print("\na login besides the hash (unsalted md5 login minus the health round trip): Worker %.2f ms, serve %.2f ms"
              % (cheap[1]["worker"] - health, cheap[1]["serve"] - serve_health))

    # Unknown logins are verified against the snapshot's decoy: same cost.
    username, password, _ = chosen.get("pbkdf2_sha256 1000000") or next(iter(chosen.values()))
    wrong, unknown = [], []
    for i in range(30):
        for bucket, body in ((wrong, {"username": username, "password": "wrong-%d" % i}),
                             (unknown, {"username": "nobody-%d" % i, "password": "wrong-%d" % i})):
            start = time.perf_counter()
            status, _ = post(args.worker, args.token, "/v1/login", body)
            bucket.append(time.perf_counter() - start)
            assert status == 401
    w, u = statistics.median(wrong) * 1000, statistics.median(unknown) * 1000
    print("unknown login vs wrong password (Worker, %s's format, 30 each, interleaved): %.1f ms vs %.1f ms, %+.1f%%"
          % (username, u, w, (u - w) / w * 100))

    # Load: every format at once, from several clients, for a bounded time.
    users = list(chosen.values())
    latencies, errors = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds
    rss = [workerd_rss_mib()]

    def client(k):
        i = k
        while time.monotonic() < deadline:
            username, password, _ = users[i % len(users)]
            i += 1
            start = time.perf_counter()
            status, body = post(args.worker, args.token, "/v1/login", {"username": username, "password": password})
            with lock:
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors.append((username, status, body[:80]))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.concurrency)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        rss.append(workerd_rss_mib())
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    print("\nload: %d clients for %.0f s over %d formats: %d logins, %d errors; latency p50 %.0f ms, p90 %.0f ms, "
          "p99 %.0f ms, max %.0f ms" % (args.concurrency, args.seconds, len(users), len(latencies), len(errors),
                                        q(0.5), q(0.9), q(0.99), latencies[-1] * 1000))
    print("workerd resident memory (MiB, every 5 s): " + " ".join("%.0f" % m for m in rss))
    for e in errors[:5]:
        print("error:", e)
    if args.worker_log:
        # The Worker logs its Wasm memory with every request: the peak.
        import re
        sizes = [int(m) for m in re.findall(r"wasm_memory_mib=(\d+)", open(args.worker_log, errors="replace").read())]
        if sizes:
            print("the isolate's Wasm memory: %d MiB after the first request, %d MiB at the end (%d requests logged)"
                  % (sizes[0], max(sizes), len(sizes)))


if __name__ == "__main__":
    main()
