//! One line per bad field and the error it must give: never `Ok`, never a
//! panic, and the right kind.
use djhash::{Algorithm, Cap, DjangoHash, Error, Limits, Verifier};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn malformed(algorithm: Algorithm) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Malformed { algorithm: a, .. } if *a == algorithm)
}

#[test]
fn malformed_fields_table() {
    use Algorithm::*;
    type Expect<'a> = &'a dyn Fn(&Error) -> bool;
    let table: &[(&str, Expect)] = &[
        ("", &|e| *e == Error::Unusable),
        ("!", &|e| *e == Error::Unusable),
        ("!Fs9PoOGZ6kD5dE3AqyHhQ2rVXcJzxxs1Zm1lb7wB", &|e| *e == Error::Unusable),
        ("lolcat$salt$hash", &|e| *e == Error::UnknownAlgorithm),
        ("PBKDF2_SHA256$1$salt$hash", &|e| *e == Error::UnknownAlgorithm),
        ("6d138ca3ae545631b3abd71a4f076ce759c5700b", &|e| *e == Error::UnknownAlgorithm),
        ("pbkdf2_sha256", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$0$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$+1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$01$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$1$$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha256$1$salt$aDapRanzW8aHTz97v2TcfHzWD+I=", &malformed(Pbkdf2Sha256)),
        ("pbkdf2_sha1$1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", &malformed(Pbkdf2Sha1)),
        ("argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=18$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$t=1,m=8,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=0$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdA$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC8", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q==", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHR$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1,x=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("argon2$argon2i$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", &malformed(Argon2)),
        ("bcrypt$$2b$12$short", &malformed(Bcrypt)),
        ("bcrypt$$2c$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt$$2b$03$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt$$2b$32$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt$$2b$4$$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt$$2b$04$abcdefghijklmnopqrstu!5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt$$2b$04$abcdefghijklmnopqrstuv5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", &malformed(Bcrypt)),
        ("bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4Fptjpfyé", &malformed(BcryptSha256)),
        ("scrypt$16$salt$8$1", &malformed(Scrypt)),
        ("scrypt$3$salt$8$1$aGFzaA==", &malformed(Scrypt)),
        (
            "scrypt$65536$salt$1$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            &malformed(Scrypt),
        ),
        ("scrypt$16$salt$8$1$aGFzaA==", &malformed(Scrypt)),
        ("scrypt$16$salt$8$1$aGFzaA==$extra", &malformed(Scrypt)),
        ("md5$$abc", &malformed(Md5)),
        ("md5$salt$3F86D0D3D465B7B458C231BF3555C0E3", &malformed(Md5)),
        ("88A434C88CCA4E900F7874CD98123F43", &malformed(UnsaltedMd5)),
        ("sha1$$6d138ca3", &malformed(Sha1)),
        ("unsalted_sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b", &malformed(UnsaltedSha1)),
        ("crypt$", &malformed(Crypt)),
        ("crypt$$", &malformed(Crypt)),
        ("crypt$$ab1Hv2Lg7ltQ", &malformed(Crypt)),
        ("crypt$$!!1Hv2Lg7ltQo", &malformed(Crypt)),
        ("crypt$$$1$saltsalt$hash", &|e| matches!(e, Error::Unsupported { algorithm: Crypt, .. })),
        ("crypt$$_J9..rasmBYk8r9AiWNc", &|e| matches!(e, Error::Unsupported { algorithm: Crypt, .. })),
    ];
    for (encoded, expected) in table {
        for password in ["", "secret", "lètmein"] {
            match djhash::verify(password.as_bytes(), encoded) {
                Err(e) => assert!(expected(&e), "{encoded:?}: unexpected {e:?}"),
                Ok(ok) => panic!("{encoded:?} must not verify, got Ok({ok})"),
            }
        }
    }
}

#[test]
fn caps_are_checked_before_any_work() {
    let limits = Limits::default();
    let cases = [
        ("pbkdf2_sha256$4294967295$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", Cap::Pbkdf2Iterations),
        ("pbkdf2_sha1$18446744073709551615$salt$aDapRanzW8aHTz97v2TcfHzWD+I=", Cap::Pbkdf2Iterations),
        ("argon2$argon2id$v=19$m=4294967295,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw", Cap::Argon2Memory),
        ("argon2$argon2id$v=19$m=8,t=4294967295,p=1$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw", Cap::Argon2Passes),
        ("bcrypt$$2b$31$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", Cap::BcryptCost),
        (
            "scrypt$1048576$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            Cap::ScryptMemory,
        ),
        (
            "scrypt$16384$salt$8$1000$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            Cap::ScryptWork,
        ),
    ];
    for (encoded, cap) in cases {
        match Verifier::new(limits).verify(b"secret", encoded) {
            Err(Error::OverCap { cap: c, value, limit }) => {
                assert_eq!(c, cap, "{encoded}");
                assert!(value > limit);
            }
            other => panic!("{encoded}: expected over_cap {cap:?}, got {other:?}"),
        }
    }
    // Django's own defaults pass every cap.
    let defaults = [
        "pbkdf2_sha256$1200000$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw",
        "bcrypt$$2b$12$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW",
        "scrypt$16384$salt$8$5$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
    ];
    for encoded in defaults {
        let hash = DjangoHash::parse(encoded).expect("well-formed");
        assert_eq!(limits.check(&hash), Ok(()), "{encoded}");
    }
}

#[test]
fn identifies_algorithm_and_cost_without_verifying() {
    let hash = DjangoHash::parse("argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw")
        .expect("Django's default argon2 parses");
    assert_eq!(hash.algorithm(), Algorithm::Argon2);
    assert!(matches!(
        hash,
        DjangoHash::Argon2 {
            variant: djhash::Argon2Variant::Id,
            version: djhash::Argon2Version::V13,
            memory_kib: 102_400,
            passes: 2,
            lanes: 8,
            ..
        }
    ));
    let hash = DjangoHash::parse("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW")
        .expect("parses");
    assert!(matches!(hash, DjangoHash::Bcrypt { algorithm: Algorithm::BcryptSha256, cost: 12, .. }));
    let hash = DjangoHash::parse("scrypt$16384$salt$8$5$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").expect("parses");
    assert!(matches!(hash, DjangoHash::Scrypt { n: 16384, r: 8, p: 5, salt: "salt", .. }));
    let hash = DjangoHash::parse("md5$$88a434c88cca4e900f7874cd98123f43").expect("parses");
    assert!(matches!(hash, DjangoHash::Unsalted { digest: djhash::HexDigest::Md5, prefixed: true, .. }));
}

#[test]
fn one_verifier_reuses_its_argon2_memory_across_sizes() {
    let big = "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
    let small = "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q";
    let mut verifier = Verifier::default();
    for _ in 0..2 {
        assert_eq!(verifier.verify(b"secret", big), Ok(true));
        assert_eq!(verifier.verify(b"secret", small), Ok(true));
        assert_eq!(verifier.verify(b"wrong", small), Ok(false));
    }
}
