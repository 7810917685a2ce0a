"""Two builds of djedge side by side against Django, in one run: the Worker
in local workerd, native `djedge verify` and djhash in Wasm under node, per
commit, and Django's own check_password, on the same hashes. Run by
benches/side_by_side.sh, which builds the commits, starts the Workers and
runs this once per Django version:

    python side_by_side.py users --db demo.sqlite3 --out vectors.json
    python side_by_side.py time --vectors vectors.json --token T --rounds 7 \\
        --side A,http://127.0.0.1:8791,A/djedge,A/djhash_wasm.js --side B,...

`users` makes one user per format with this Django's make_password at its
default costs (the password is compare.PASSWORD) in a copy of the demo
database, which each commit's `djedge export` then turns into its own KV.

`wasm` and `native` time builds without a Worker (djhash's Wasm packages
under node; `djedge verify` binaries) against Django in the same way, for
tuning one function without building two whole commits:

    python side_by_side.py wasm --vectors vectors.json --pkg A=a/djhash_wasm.js --pkg B=...

`time` interleaves: every round times each format once on every side, A and
B alternating which goes first, and reports the minimum and median of the
rounds. On a busy machine the minimum is the least disturbed figure and the
median the typical one; both sides always see the same noise.
"""

import argparse
import datetime
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time

import compare  # configures Django with every hasher; PASSWORD
import edge_bench  # post()
from compare import PASSWORD, hashers

import django

# Django's default hashers at their default costs, and md5: a hash that
# costs nothing, so its row is the per-request cost of each side.
FORMATS = ["pbkdf2_sha256", "argon2", "scrypt", "bcrypt_sha256", "bcrypt", "md5"]


def username(version, name):
    return "bench-%s-%s" % (version, name)


def make_users(db, out):
    version = ".".join(django.get_version().split(".")[:2])
    vectors = []
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(" ")
    with sqlite3.connect(db) as conn:
        for name in FORMATS:
            encoded = hashers.make_password(PASSWORD, hasher=name)
            assert hashers.check_password(PASSWORD, encoded)
            user = username(version, name)
            conn.execute("DELETE FROM auth_user WHERE username = ?", (user,))
            conn.execute(
                "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, "
                "is_staff, is_active, date_joined) VALUES (?, NULL, 0, ?, '', '', ?, 0, 1, ?)",
                (encoded, user, user + "@example.com", now))
            vectors.append({"format": name, "username": user, "encoded": encoded})
    with open(out, "w") as f:
        json.dump({"django": django.get_version(), "password": PASSWORD, "vectors": vectors}, f, indent=1)


class LineProcess:
    """A long-lived process answering one JSON line per JSON line."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, job):
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("%s ended" % self.proc.args)
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


class Side:
    """One commit: its Worker, its native binary, its Wasm under node."""

    def __init__(self, spec, token, node_flags):
        self.name, self.url, djedge, wasm_pkg = spec.split(",")
        self.token = token
        self.native = LineProcess([djedge, "verify"])
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasm_verify.mjs")
        self.node = LineProcess(["node", *node_flags, script, wasm_pkg, "--lines"])

    def worker(self, vector):
        status, body = edge_bench.post(self.url, self.token, "/v1/login",
                                       {"username": vector["username"], "password": PASSWORD})
        assert status == 200, (self.name, vector["username"], status, body[:200])

    def verify(self, proc, vector):
        answer = proc.ask({"encoded": vector["encoded"], "password": PASSWORD})
        assert answer["ok"] is True, (self.name, vector["format"], answer)

    def runners(self):
        return [("Worker", self.worker), ("native", lambda v: self.verify(self.native, v)),
                ("node", lambda v: self.verify(self.node, v))]


def timed(fn, vector):
    start = time.perf_counter()
    fn(vector)
    return time.perf_counter() - start


def summary(samples):
    return {"min_ms": min(samples) * 1e3, "median_ms": statistics.median(samples) * 1e3, "n": len(samples)}


def cell(row, key, django_key="Django"):
    s, d = row[key], row[django_key]
    if s["median_ms"] < 10:
        return "%.2f / %.2f" % (s["min_ms"], s["median_ms"])
    return "%.0f / %.0f (%.2f)" % (s["min_ms"], s["median_ms"], s["median_ms"] / d["median_ms"])


def interleaved(vectors, runners, rounds):
    """{(format, key): [seconds]} for every runner, one call each per format
    per round after one untimed call each; pairs of runners alternate which
    goes first (runners is [[(key, fn), ...], ...], one list per pair)."""
    django_check = lambda v: hashers.check_password(PASSWORD, v["encoded"]) or sys.exit("Django refused")  # noqa: E731
    samples = {(v["format"], key): [] for v in vectors for key in ["Django"] + [k for g in runners for k, _ in g]}
    # Warm every side once (the Worker's first argon2 grows its memory;
    # V8 compiles; the answers are checked) before any timed round.
    for vector in vectors:
        django_check(vector)
        for group in runners:
            for _, fn in group:
                fn(vector)
    for rnd in range(rounds):
        for vector in vectors:
            samples[(vector["format"], "Django")].append(timed(django_check, vector))
            for group in runners:
                for key, fn in (group if rnd % 2 == 0 else group[::-1]):
                    samples[(vector["format"], key)].append(timed(fn, vector))
        print("round %d/%d done" % (rnd + 1, rounds), file=sys.stderr, flush=True)
    return samples


def report(data, vectors, samples, keys, rounds, json_path):
    rows = {}
    for (fmt, key), values in samples.items():
        rows.setdefault(fmt, {})[key] = summary(values)
    print("\nDjango %s, %d interleaved rounds; min / median ms (median / Django's median); md5 is the per-request cost"
          % (data["django"], rounds))
    print("| format | params | Django | " + " | ".join(keys) + " |")
    print("|---|---|---:|" + "---:|" * len(keys))
    for vector in vectors:
        row = rows[vector["format"]]
        params = "$".join(vector["encoded"].split("$")[1:-2])[:32]
        django_cell = "%.2f / %.2f" % (row["Django"]["min_ms"], row["Django"]["median_ms"])
        print("| %s | %s | %s | %s |" % (vector["format"], params, django_cell, " | ".join(cell(row, k) for k in keys)))
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"django": data["django"], "rounds": rounds, "rows": rows,
                       "samples_ms": {"%s|%s" % k: [x * 1e3 for x in v] for k, v in samples.items()}}, f, indent=1)
    return rows


def load_vectors(args):
    data = json.load(open(args.vectors))
    return data, [v for v in data["vectors"] if not args.formats or v["format"] in args.formats.split(",")]


def run_timing(args):
    data, vectors = load_vectors(args)
    sides = [Side(spec, args.token, args.node_flags.split()) for spec in args.side]
    kinds = ["Worker", "native", "node"]
    runners = [[("%s %s" % (kind, side.name), dict(side.runners())[kind]) for side in sides] for kind in kinds]
    samples = interleaved(vectors, runners, args.rounds)
    for side in sides:
        side.native.close()
        side.node.close()
    names = [s.name for s in sides]
    rows = report(data, vectors, samples, [k for group in runners for k, _ in group], args.rounds, args.json)
    if len(names) == 2:
        a, b = names
        print("\nratios of medians: %s / %s per kind, and workerd / node per commit" % (b, a))
        print("| format | Worker %s/%s | native %s/%s | node %s/%s | workerd/node %s | workerd/node %s |"
              % (b, a, b, a, b, a, a, b))
        print("|---|---:|---:|---:|---:|---:|")
        for vector in vectors:
            row = rows[vector["format"]]
            med = lambda k: row[k]["median_ms"]  # noqa: E731
            print("| %s | %.2f | %.2f | %.2f | %.2f | %.2f |" % (
                vector["format"], med("Worker " + b) / med("Worker " + a), med("native " + b) / med("native " + a),
                med("node " + b) / med("node " + a), med("Worker " + a) / med("node " + a),
                med("Worker " + b) / med("node " + b)))


def node_runner(name, pkg, flags, procs):
    """A runner verifying in one long-lived node instance of the wasm-bindgen
    nodejs package `pkg` (wasm_verify.mjs --lines)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wasm_verify.mjs")
    proc = LineProcess(["node", *flags, script, pkg, "--lines"])
    procs.append(proc)

    def via_node(vector):
        assert proc.ask({"encoded": vector["encoded"], "password": PASSWORD})["ok"] is True

    return (name, via_node)


def run_bare(args):
    """The same Wasm module in bare workerd (benches/workerd_wasm.mjs) and in
    node, each with its own V8 flags, interleaved."""
    data, vectors = load_vectors(args)
    runners, procs = [], []
    for spec in args.node:
        name, _, flags = spec.partition("=")
        runners.append(node_runner("node " + name, args.pkg, flags.split(), procs))
    for spec in args.workerd:
        name, _, url = spec.partition("=")

        def via_workerd(vector, url=url):
            status, body = edge_bench.post(url, "", "/", {"encoded": vector["encoded"], "password": PASSWORD})
            assert status == 200 and json.loads(body)["ok"] is True, (status, body[:200])

        runners.append(("workerd " + name, via_workerd))
    samples = interleaved(vectors, [runners], args.rounds)
    for proc in procs:
        proc.close()
    report(data, vectors, samples, [k for k, _ in runners], args.rounds, args.json)


def run_wasm(args):
    """Builds of djhash's Wasm (wasm-bindgen nodejs packages, e.g. variants of
    one function while it is tuned) under node, interleaved with Django."""
    data, vectors = load_vectors(args)
    procs = []
    runners = [node_runner(name, pkg, [], procs) for name, _, pkg in (spec.partition("=") for spec in args.pkg)]
    samples = interleaved(vectors, [runners], args.rounds)
    for proc in procs:
        proc.close()
    report(data, vectors, samples, [k for k, _ in runners], args.rounds, args.json)


def run_native(args):
    """Native `djedge verify` binaries only (no build, no Worker): per call
    in long-lived processes, interleaved; then whole processes of 5
    verifications each, best of three."""
    data, vectors = load_vectors(args)
    procs = [(path, LineProcess([path, "verify"])) for path in args.djedge]

    def via(proc):
        return lambda v: proc.ask({"encoded": v["encoded"], "password": PASSWORD})["ok"] is True or sys.exit("refused")

    runners = [[("native %d" % i, via(proc)) for i, (_, proc) in enumerate(procs)]]
    for i, (path, _) in enumerate(procs):
        print("native %d: %s" % (i, path))
    samples = interleaved(vectors, runners, args.rounds)
    for _, proc in procs:
        proc.close()
    report(data, vectors, samples, [k for k, _ in runners[0]], args.rounds, args.json)
    print("\nwhole process, 5 verifications each, best of three (ms per verification)")
    for vector in vectors:
        lines = (json.dumps({"encoded": vector["encoded"], "password": PASSWORD}) + "\n").encode() * 5
        best = {path: float("inf") for path in args.djedge}
        for _ in range(3):
            for path in args.djedge:
                start = time.perf_counter()
                subprocess.run([path, "verify"], input=lines, capture_output=True, check=True)
                best[path] = min(best[path], (time.perf_counter() - start) / 5)
        print("| %s | %s |" % (vector["format"], " | ".join("%.1f" % (best[p] * 1e3) for p in args.djedge)))


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    users = commands.add_parser("users", help="add one user per format to a copy of the demo database")
    users.add_argument("--db", required=True)
    users.add_argument("--out", required=True)
    timing = commands.add_parser("time", help="time every side, interleaved")
    timing.add_argument("--vectors", required=True)
    timing.add_argument("--side", action="append", required=True, help="NAME,WORKER_URL,DJEDGE,WASM_PKG")
    timing.add_argument("--token", required=True)
    timing.add_argument("--rounds", type=int, default=7)
    timing.add_argument("--formats", help="comma-separated subset of " + ",".join(FORMATS))
    timing.add_argument("--node-flags", default="", help="e.g. '--liftoff --no-wasm-tier-up'")
    timing.add_argument("--json")
    bare = commands.add_parser("bare", help="one Wasm module in bare workerd and in node (workerd_vs_node.sh)")
    bare.add_argument("--vectors", required=True)
    bare.add_argument("--pkg", required=True, help="the wasm-bindgen nodejs package of the module")
    bare.add_argument("--node", action="append", default=[], help="NAME=FLAGS")
    bare.add_argument("--workerd", action="append", default=[], help="NAME=URL")
    bare.add_argument("--rounds", type=int, default=7)
    bare.add_argument("--formats")
    bare.add_argument("--json")
    wasm = commands.add_parser("wasm", help="builds of djhash's Wasm under node only, interleaved")
    wasm.add_argument("--vectors", required=True)
    wasm.add_argument("--pkg", action="append", required=True, help="NAME=PATH of a wasm-bindgen nodejs package")
    wasm.add_argument("--rounds", type=int, default=9)
    wasm.add_argument("--formats")
    wasm.add_argument("--json")
    native = commands.add_parser("native", help="native djedge verify binaries only, interleaved")
    native.add_argument("--vectors", required=True)
    native.add_argument("--djedge", action="append", required=True)
    native.add_argument("--rounds", type=int, default=15)
    native.add_argument("--formats")
    native.add_argument("--json")
    args = parser.parse_args()
    if args.command == "native":
        run_native(args)
    elif args.command == "users":
        make_users(args.db, args.out)
    elif args.command == "bare":
        run_bare(args)
    elif args.command == "wasm":
        run_wasm(args)
    else:
        run_timing(args)


if __name__ == "__main__":
    assert compare.PREFIX  # imported for its Django settings
    main()
