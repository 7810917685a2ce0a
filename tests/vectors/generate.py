"""Make djhash's test vectors with real Django.

Run inside a virtualenv that has Django, bcrypt<5 and argon2-cffi from PyPI
(tests/vectors/make.sh sets both up). Every vector's verdict comes from
Django's own ``check_password``: ``true``, ``false`` or ``"error"`` when Django
raised. The output records the versions that made it.

    python generate.py --seed 42 --out django-4.2.json
"""

import argparse
import base64
import hashlib
import json
import platform
import random
import ssl
import sys
import warnings

import django
from django.conf import settings

ALL_HASHERS = [
    # MD5 first: make_password's timing padding for unusable passwords runs
    # the default hasher, and a fast one keeps generation quick.
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.SHA1PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
    "django.contrib.auth.hashers.CryptPasswordHasher",
]


def available_hashers():
    import importlib

    module = importlib.import_module("django.contrib.auth.hashers")
    return [h for h in ALL_HASHERS if hasattr(module, h.rsplit(".", 1)[1])]


settings.configure(PASSWORD_HASHERS=available_hashers(), USE_TZ=True)
django.setup()
warnings.simplefilter("ignore")

import argon2  # noqa: E402
import bcrypt  # noqa: E402
from django.contrib.auth import hashers  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
STD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Ranges that real users type from: Latin-1, Latin Extended, Greek, Cyrillic,
# Hebrew, Devanagari, CJK, Hangul, combining marks, and astral emoji.
UNICODE_RANGES = [
    (0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x17F), (0x370, 0x3FF),
    (0x400, 0x4FF), (0x5D0, 0x5EA), (0x900, 0x97F), (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3), (0x300, 0x36F), (0x1F600, 0x1F64F), (0x1F300, 0x1F5FF),
]


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def text(self, n, alphabet=ALNUM):
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def unicode_text(self, n):
        out = []
        for _ in range(n):
            lo, hi = self.rng.choice(UNICODE_RANGES)
            out.append(chr(self.rng.randint(lo, hi)))
        return "".join(out)

    def password(self):
        kind = self.rng.choice(
            ["ascii", "ascii", "unicode", "unicode", "empty", "long", "long_unicode", "space", "nul"]
        )
        if kind == "ascii":
            return self.text(self.rng.randint(1, 24), ALNUM + "!@#$%^&*()_+-=[]{};:'\",.<>/?\\|`~ ")
        if kind == "unicode":
            return self.unicode_text(self.rng.randint(1, 20))
        if kind == "empty":
            return ""
        if kind == "long":
            return self.text(self.rng.randint(70, 140))
        if kind == "nul":
            return self.text(self.rng.randint(0, 5)) + "\x00" + self.text(self.rng.randint(0, 5))
        if kind == "space":
            return " " * self.rng.randint(1, 3)
        # Multi-byte characters straddling bcrypt's 72-byte boundary.
        return self.text(self.rng.randint(60, 71)) + self.unicode_text(self.rng.randint(3, 20))

    def wrong_password(self, right):
        choices = ["other", "suffix", "case", "drop_last"]
        kind = self.rng.choice(choices)
        if kind == "other" or not right:
            candidate = self.password()
            return candidate if candidate != right else candidate + "x"
        if kind == "suffix":
            return right + self.rng.choice(["z", " ", "é", "\u200b"])
        if kind == "case":
            swapped = right.swapcase()
            return swapped if swapped != right else right + "Z"
        return right[:-1]

    def salt(self):
        kind = self.rng.choice(["django", "django", "short", "unicode"])
        if kind == "django":
            return self.text(22)
        if kind == "short":
            return self.text(self.rng.randint(1, 12))
        return self.text(self.rng.randint(1, 6)) + self.unicode_text(self.rng.randint(1, 6)).replace("$", "")

    def bcrypt_salt(self, cost, prefix="2b"):
        raw = bytes(self.rng.getrandbits(8) for _ in range(16))
        std = base64.b64encode(raw).decode().rstrip("=")
        table = str.maketrans(STD_ALPHABET, BCRYPT_ALPHABET)
        return ("$%s$%02d$%s" % (prefix, cost, std.translate(table))).encode()


def django_says(password, encoded):
    try:
        return bool(hashers.check_password(password, encoded, preferred="md5"))
    except Exception:  # noqa: BLE001 - any raise is the verdict "error"
        return "error"


def make_cases(g, available):
    """Yield (algorithm, encoded, right_password) for well-formed hashes."""
    h = hashers.get_hasher
    for _ in range(45):
        pw = g.password()
        yield "pbkdf2_sha256", h("pbkdf2_sha256").encode(pw, g.salt(), g.rng.randint(1, 5000)), pw
        pw = g.password()
        yield "pbkdf2_sha1", h("pbkdf2_sha1").encode(pw, g.salt(), g.rng.randint(1, 5000)), pw
    for _ in range(50):
        pw = g.password()
        variant = g.rng.choice([argon2.low_level.Type.ID, argon2.low_level.Type.ID,
                                argon2.low_level.Type.I, argon2.low_level.Type.D])
        p = g.rng.randint(1, 8)
        m = g.rng.randint(8 * p, 2048)
        t = g.rng.randint(1, 3)
        version = g.rng.choice([19, 19, 16])
        salt = g.text(g.rng.randint(8, 32)).encode()
        data = argon2.low_level.hash_secret(
            pw.encode(), salt, time_cost=t, memory_cost=m, parallelism=p,
            hash_len=g.rng.randint(4, 64), type=variant, version=version,
        ).decode()
        encoded = "argon2" + data
        if version == 16 and g.rng.random() < 0.5:
            # Django before 1.10's argon2-cffi wrote no version field.
            encoded = encoded.replace("$v=16$", "$", 1)
        yield "argon2", encoded, pw
    argon = h("argon2")
    for _ in range(10):
        pw = g.password()
        argon.time_cost, argon.memory_cost, argon.parallelism = g.rng.randint(1, 3), g.rng.randint(64, 1024), g.rng.randint(1, 8)
        yield "argon2", argon.encode(pw, g.text(22)), pw
    for _ in range(25):
        for name in ("bcrypt_sha256", "bcrypt"):
            pw = g.password()
            prefix = g.rng.choice(["2b", "2b", "2a"])
            yield name, h(name).encode(pw, g.bcrypt_salt(g.rng.randint(4, 6), prefix)), pw
    for _ in range(40):
        pw = g.password()
        n = 2 ** g.rng.randint(1, 11)
        yield "scrypt", h("scrypt").encode(pw, g.salt(), n, g.rng.randint(1, 8), g.rng.randint(1, 5)), pw
    for _ in range(40):
        pw = g.password()
        yield "md5", h("md5").encode(pw, g.salt()), pw
    if "sha1" in available:
        for _ in range(40):
            pw = g.password()
            yield "sha1", h("sha1").encode(pw, g.salt()), pw
            pw = g.password()
            yield "unsalted_sha1", h("unsalted_sha1").encode(pw, ""), pw
            pw = g.password()
            bare = h("unsalted_md5").encode(pw, "")
            yield "unsalted_md5", bare if g.rng.random() < 0.5 else "md5$$" + bare, pw
    if "crypt" in available:
        for _ in range(40):
            pw = g.password().replace("\x00", "")
            yield "crypt", h("crypt").encode(pw, g.text(2, CRYPT_ALPHABET)), pw


def default_cost_cases(g, available):
    """One hash per format at this Django's own default parameters."""
    for name in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt"]:
        pw = g.password()
        yield name, hashers.make_password(pw, hasher=name), pw


# Fixed vectors from Django's tests/auth_tests/test_hashers.py.
DJANGO_TEST_VECTORS = [
    # (hasher, password, encoded, a form Django writes)
    ("pbkdf2_sha256", "lètmein", "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", True),
    ("pbkdf2_sha256", "lètmein", "pbkdf2_sha256$390000$seasalt2$geC/uZ92nRXDSjSxeoiBqYyRcrLzMm8xK3ro1QS1uo8=", True),
    ("pbkdf2_sha1", "lètmein", "pbkdf2_sha1$390000$seasalt2$aDapRanzW8aHTz97v2TcfHzWD+I=", True),
    ("sha1", "lètmein", "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8", True),
    ("md5", "lètmein", "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3", True),
    ("unsalted_md5", "lètmein", "88a434c88cca4e900f7874cd98123f43", True),
    ("unsalted_md5", "lètmein", "md5$$88a434c88cca4e900f7874cd98123f43", True),
    ("unsalted_sha1", "lètmein", "sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b", True),
    # "Raw SHA1 isn't acceptable" in Django's own test.
    ("unsalted_sha1", "lètmein", "6d138ca3ae545631b3abd71a4f076ce759c5700b", False),
    ("crypt", "lètmei", "crypt$$ab1Hv2Lg7ltQo", True),
    ("argon2", "secret", "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg", True),
    ("argon2", "secret", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", True),
    ("argon2", "secret", "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw", True),
]

MALFORMED = [
    "", "!", "!x3LBGXQvV8vLQmxG1DPmXa4hZlIfDQlzy5dM2dDp", "$", "$$", "$$$",
    "lolcat$salt$hash", "PBKDF2_SHA256$10$salt$hash", "pbkdf2_sha256", "pbkdf2_sha256$",
    "pbkdf2_sha256$abc$salt$hash", "pbkdf2_sha256$0$salt$hash", "pbkdf2_sha256$-1$salt$hash",
    "pbkdf2_sha256$+10$salt$hash", "pbkdf2_sha256$ 10$salt$hash", "pbkdf2_sha256$010$salt$hash",
    "pbkdf2_sha256$10$$hash", "pbkdf2_sha256$10$salt", "pbkdf2_sha256$10$salt$",
    "pbkdf2_sha256$1_0$salt$hash", "pbkdf2_sha256$\u0661\u0660$salt$hash", "pbkdf2_sha1$10$salt$!!!",
    "argon2", "argon2$", "argon2$argon2id", "argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "argon2$argon2i$v=19$m=8,t=1,p=1$$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$",
    "argon2$argon2i$v=19$t=1,m=8,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=18$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "argon2$argon2i$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=0$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "argon2$argon2i$v=19$m=7,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdA$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+",
    "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ=$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q==",
    "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHR$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8R",
    "argon2$argon2i$v=19$m=8,t=1,p=1,x=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", "argon2$argon2i$v=19$m=08,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
    "bcrypt", "bcrypt$", "bcrypt$$", "bcrypt$$2b$", "bcrypt$$2b$12$", "bcrypt$$2b$12$short",
    "bcrypt$$2c$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "bcrypt$$2b$03$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "bcrypt$$2b$32$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "bcrypt$$2b$4$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "bcrypt$$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4Fptjpfy",
    "bcrypt$$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDWX",
    "bcrypt$x$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstu!5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
    "scrypt", "scrypt$", "scrypt$16$salt$8$1", "scrypt$0$salt$8$1$aGFzaA==", "scrypt$3$salt$8$1$aGFzaA==",
    "scrypt$16$salt$0$1$aGFzaA==", "scrypt$16$salt$8$0$aGFzaA==", "scrypt$16$$8$1$aGFzaA==",
    "scrypt$16$salt$8$1$", "scrypt$x$salt$8$1$aGFzaA==", "scrypt$16$salt$8$1$aGFzaA==$extra",
    "md5", "md5$", "md5$$", "md5$$abc", "md5$salt$", "md5$$88A434C88CCA4E900F7874CD98123F43",
    "88A434C88CCA4E900F7874CD98123F43", "zz a434c88cca4e900f7874cd98123f43", "md5$salt$zz",
    "sha1", "sha1$", "sha1$$", "sha1$$6D138CA3AE545631B3ABD71A4F076CE759C5700B", "sha1$$6d138ca3", "sha1$salt$",
    "unsalted_md5$$88a434c88cca4e900f7874cd98123f43", "unsalted_sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b",
    "crypt", "crypt$", "crypt$$", "crypt$$ab", "crypt$$ab1Hv2Lg7ltQ", "crypt$$ab1Hv2Lg7ltQoo",
    "crypt$$!!1Hv2Lg7ltQo", "crypt$ab$ab1Hv2Lg7ltQo", "crypt$$$1$saltsalt$hash", "crypt$$_J9..rasmBYk8r9AiWNc",
]


def mutate(g, encoded):
    """A random small damage to a well-formed string (never to a cost number)."""
    kind = g.rng.choice(["flip_last", "truncate", "append", "insert_dollar", "upper", "strip_prefix", "whitespace"])
    head, sep, last = encoded.rpartition("$")
    if kind == "flip_last" and last:
        i = g.rng.randrange(len(last))
        alphabet = "0123456789abcdefABCDEF+/=."
        return head + sep + last[:i] + g.rng.choice([c for c in alphabet if c != last[i]]) + last[i + 1:]
    if kind == "truncate":
        return encoded[: g.rng.randint(0, len(encoded) - 1)]
    if kind == "append":
        return encoded + g.rng.choice(["=", "A", "$", "a", "\x00"])
    if kind == "insert_dollar":
        i = g.rng.randrange(len(encoded))
        return encoded[:i] + "$" + encoded[i:]
    if kind == "upper":
        return encoded.upper()
    if kind == "strip_prefix":
        return encoded.split("$", 1)[-1]
    return g.rng.choice([" ", "\n", "\t"]) + encoded if g.rng.random() < 0.5 else encoded + " "


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    g = Gen(args.seed)
    available = {import_string(path).algorithm for path in available_hashers()}

    vectors = []

    def add(algorithm, encoded, password, case, well_formed):
        vectors.append({
            "algorithm": algorithm, "case": case, "encoded": encoded, "password": password,
            "well_formed": well_formed, "django": django_says(password, encoded),
        })

    cases = list(make_cases(g, available)) + list(default_cost_cases(g, available))
    for algorithm, encoded, pw in cases:
        add(algorithm, encoded, pw, "right", True)
        add(algorithm, encoded, g.wrong_password(pw), "wrong", True)
        if len(pw.encode()) > 72:
            # bcrypt truncates at 72 bytes; bcrypt_sha256 must not.
            cut = pw.encode()[:72].decode("utf-8", "ignore")
            add(algorithm, encoded, cut, "first_72_bytes", True)
        if algorithm == "crypt" and len(pw) > 8:
            add(algorithm, encoded, pw[:8], "first_8_chars", True)
        if g.rng.random() < 0.25:
            add(algorithm, mutate(g, encoded), pw, "mutated", False)
    for hasher, pw, encoded, well_formed in DJANGO_TEST_VECTORS:
        if hasher in available:
            add(hasher, encoded, pw, "django_tests", well_formed)
            add(hasher, encoded, pw + "z", "django_tests", well_formed)
    # scrypt over OpenSSL's default 32 MiB maxmem: Django itself raises.
    for n, r in ((2 ** 15, 8), (2 ** 18, 1), (2 ** 14, 16)):
        add("scrypt", "scrypt$%d$saltsalt$%d$1$%s" % (n, r, base64.b64encode(bytes(64)).decode()), "x", "over_openssl_maxmem", True)
    for encoded in MALFORMED:
        add("malformed", encoded, "secret", "malformed", False)
        add("malformed", encoded, "", "malformed", False)
    # The same bcrypt hash under each prefix pyca/bcrypt 4 accepts.
    pw = "prefix-check"
    base = hashers.get_hasher("bcrypt").encode(pw, g.bcrypt_salt(4))
    for prefix in ("2a", "2b", "2x", "2y"):
        add("bcrypt", base.replace("$2b$", "$%s$" % prefix, 1), pw, "bcrypt_prefix", True)

    meta = {
        "django": django.get_version(),
        "bcrypt": bcrypt.__version__,
        "argon2-cffi": argon2.__version__ if hasattr(argon2, "__version__") else "unknown",
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "seed": args.seed,
        "hashers": sorted(available),
        "count": len(vectors),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"generator": meta, "vectors": vectors}, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print("%s: %d vectors" % (args.out, len(vectors)), file=sys.stderr)


if __name__ == "__main__":
    main()
