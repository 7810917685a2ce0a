//! One line per bad field and the error it must give: never `Ok`, never a
//! panic, and the right kind.
use djhash::{Algorithm, Cap, Cost, DjangoHash, Error, Limits, Malformed, Unsupported, Verifier};
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The error a field must give; the reason names the one rule that refused
/// it, so a row refused for another reason fails.
fn malformed(algorithm: Algorithm, reason: Malformed) -> Error {
    Error::Malformed { algorithm, reason }
}

#[test]
fn malformed_fields_table() {
    use Algorithm::*;
    use Malformed as M;
    let table: &[(&str, Error)] = &[
        ("", Error::Unusable),
        ("!", Error::Unusable),
        ("!Fs9PoOGZ6kD5dE3AqyHhQ2rVXcJzxxs1Zm1lb7wB", Error::Unusable),
        ("lolcat$salt$hash", Error::UnknownAlgorithm),
        ("PBKDF2_SHA256$1$salt$hash", Error::UnknownAlgorithm),
        ("6d138ca3ae545631b3abd71a4f076ce759c5700b", Error::UnknownAlgorithm),
        ("pbkdf2_sha256", malformed(Pbkdf2Sha256, M::NoFields)),
        ("pbkdf2_sha256$", malformed(Pbkdf2Sha256, M::Fields)),
        ("pbkdf2_sha256$1$salt", malformed(Pbkdf2Sha256, M::Fields)),
        (
            "pbkdf2_sha256$0$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            malformed(Pbkdf2Sha256, M::ZeroIterations),
        ),
        ("pbkdf2_sha256$+1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", malformed(Pbkdf2Sha256, M::Iterations)),
        ("pbkdf2_sha256$01$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", malformed(Pbkdf2Sha256, M::Iterations)),
        ("pbkdf2_sha256$1$$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", malformed(Pbkdf2Sha256, M::EmptySalt)),
        ("pbkdf2_sha256$1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c", malformed(Pbkdf2Sha256, M::HashEncoding)),
        ("pbkdf2_sha256$1$salt$aDapRanzW8aHTz97v2TcfHzWD+I=", malformed(Pbkdf2Sha256, M::HashLength)),
        ("pbkdf2_sha1$1$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=", malformed(Pbkdf2Sha1, M::HashLength)),
        ("argon2$argon2id$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Fields)),
        ("argon2$argon2x$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Variant)),
        ("argon2$argon2i$v=18$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Version)),
        ("argon2$argon2i$v=19$t=1,m=8,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Parameters)),
        ("argon2$argon2i$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Memory)),
        ("argon2$argon2i$v=19$m=8,t=0,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Passes)),
        ("argon2$argon2i$v=19$m=8,t=1,p=0$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Lanes)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdA$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::Argon2Salt)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC8", malformed(Argon2, M::HashLength)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q==", malformed(Argon2, M::HashEncoding)),
        ("argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHR$YC9+jJCrQhs5R6db7LlN8Q", malformed(Argon2, M::SaltEncoding)),
        (
            "argon2$argon2i$v=19$m=8,t=1,p=1,x=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            malformed(Argon2, M::Argon2Parameters),
        ),
        (
            "argon2$argon2i$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q",
            malformed(Argon2, M::Argon2Parameters),
        ),
        ("bcrypt$$2b$12$short", malformed(Bcrypt, M::Fields)),
        ("bcrypt$$2c$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptPrefix)),
        ("bcrypt$$2b$03$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptCost)),
        ("bcrypt$$2b$32$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptCost)),
        ("bcrypt$$2b$4$$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptCostDigits)),
        ("bcrypt$$2b$4a$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptCostDigits)),
        ("bcrypt$$2b$04$abcdefghijklmnopqrstu!5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptSalt)),
        ("bcrypt$$2b$04$abcdefghijklmnopqrstuv5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", malformed(Bcrypt, M::BcryptSalt)),
        ("bcrypt$$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDX", malformed(Bcrypt, M::BcryptChecksum)),
        (
            "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4Fptjpfyé",
            malformed(BcryptSha256, M::Fields),
        ),
        ("scrypt$16$salt$8$1", malformed(Scrypt, M::Fields)),
        ("scrypt$3$salt$8$1$aGFzaA==", malformed(Scrypt, M::ScryptNPowerOfTwo)),
        ("scrypt$016$salt$8$1$aGFzaA==", malformed(Scrypt, M::ScryptN)),
        ("scrypt$16$salt$0$1$aGFzaA==", malformed(Scrypt, M::ScryptR)),
        ("scrypt$16$salt$8$-1$aGFzaA==", malformed(Scrypt, M::ScryptP)),
        ("scrypt$16$salt$32768$32768$aGFzaA==", malformed(Scrypt, M::ScryptRP)),
        (
            "scrypt$65536$salt$1$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            malformed(Scrypt, M::ScryptNForR),
        ),
        ("scrypt$16$$8$1$aGFzaA==", malformed(Scrypt, M::EmptySalt)),
        ("scrypt$16$salt$8$1$aGFzaA", malformed(Scrypt, M::HashEncoding)),
        ("scrypt$16$salt$8$1$aGFzaA==", malformed(Scrypt, M::HashLength)),
        ("scrypt$16$salt$8$1$aGFzaA==$extra", malformed(Scrypt, M::Fields)),
        ("md5$$abc", malformed(Md5, M::EmptySalt)),
        ("md5$salt", malformed(Md5, M::Fields)),
        ("md5$salt$3F86D0D3D465B7B458C231BF3555C0E3", malformed(Md5, M::HexDigest)),
        ("88A434C88CCA4E900F7874CD98123F43", malformed(UnsaltedMd5, M::HexDigest)),
        ("sha1$$6d138ca3", malformed(Sha1, M::EmptySalt)),
        ("unsalted_sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b", malformed(UnsaltedSha1, M::UnsaltedName)),
        ("crypt$", malformed(Crypt, M::Fields)),
        ("crypt$$", malformed(Crypt, M::CryptData)),
        ("crypt$$ab1Hv2Lg7ltQ", malformed(Crypt, M::CryptData)),
        ("crypt$$!!1Hv2Lg7ltQo", malformed(Crypt, M::CryptData)),
        ("crypt$$$1$saltsalt$hash", Error::Unsupported { algorithm: Crypt, reason: Unsupported::CryptMethod }),
        ("crypt$$_J9..rasmBYk8r9AiWNc", Error::Unsupported { algorithm: Crypt, reason: Unsupported::CryptMethod }),
    ];
    for (encoded, expected) in table {
        assert_eq!(DjangoHash::parse(encoded).err().as_ref(), Some(expected), "{encoded:?}");
        for password in ["", "secret", "lètmein"] {
            assert_eq!(djhash::verify(password.as_bytes(), encoded).as_ref(), Err(expected), "{encoded:?}");
        }
    }
}

#[test]
fn the_message_names_the_algorithm_and_the_rule() {
    let message = |encoded: &str| DjangoHash::parse(encoded).err().map(|e| e.to_string());
    assert_eq!(
        message("pbkdf2_sha256$0$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=").as_deref(),
        Some("malformed: pbkdf2_sha256: the iteration count is 0")
    );
    assert_eq!(
        message("scrypt$16$salt$8$1").as_deref(),
        Some("malformed: scrypt: the wrong number of fields, expected scrypt$<N>$<salt>$<r>$<p>$<base64>")
    );
    assert_eq!(
        message("crypt$$_J9..rasmBYk8r9AiWNc").as_deref(),
        Some("unsupported: crypt: only traditional DES crypt(3) is supported")
    );
}

#[test]
fn crypt_refuses_a_password_with_nul_as_django_does() {
    let field = "crypt$$ab1Hv2Lg7ltQo";
    assert_eq!(
        djhash::verify(b"sec\0ret", field),
        Err(Error::Unsupported { algorithm: Algorithm::Crypt, reason: Unsupported::CryptNul })
    );
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
    let Some(Cost::Argon2(params)) = hash.cost() else { panic!("argon2 has an argon2 cost: {hash:?}") };
    assert_eq!(
        (params.variant(), params.version(), params.memory_kib(), params.passes(), params.lanes()),
        (djhash::Argon2Variant::Id, djhash::Argon2Version::V13, 102_400, 2, 8)
    );
    assert_eq!(hash.cost().map(|c| c.to_string()).as_deref(), Some("argon2id m=102400,t=2,p=8"));
    let hash = DjangoHash::parse("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW")
        .expect("parses");
    assert!(matches!(hash, DjangoHash::Bcrypt { kind: djhash::BcryptKind::Sha256, .. }));
    assert_eq!(hash.algorithm(), Algorithm::BcryptSha256);
    assert!(matches!(hash.cost(), Some(Cost::Bcrypt(p)) if p.cost() == 12 && p.prefix() == djhash::BcryptPrefix::B));
    let hash = DjangoHash::parse("scrypt$16384$salt$8$5$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").expect("parses");
    assert!(matches!(hash, DjangoHash::Scrypt { salt: "salt", .. }));
    assert!(matches!(hash.cost(), Some(Cost::Scrypt(p)) if (p.n(), p.r(), p.p()) == (16384, 8, 5)));
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
