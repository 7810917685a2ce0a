//! Property tests: no input makes parse or verify panic, a parsed field
//! writes back byte for byte, and nothing unverifiable is ever `Ok(true)`.
//! (Native only: proptest does not build for wasm32-unknown-unknown; the
//! Wasm run checks the same code on every Django vector.)
#![cfg(not(target_arch = "wasm32"))]

use djhash::fuzzing::{FUZZ_LIMITS, parse_and_verify};
use djhash::{DjangoHash, Verifier};
use proptest::prelude::*;

/// Strings shaped like Django fields: a real prefix and `$`-joined pieces
/// from the characters the formats use, so the parsers' deep paths run.
fn field_like() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "pbkdf2_sha256",
        "pbkdf2_sha1",
        "argon2",
        "bcrypt_sha256",
        "bcrypt",
        "scrypt",
        "sha1",
        "md5",
        "crypt",
        "unsalted_md5",
        "argon2$argon2id$v=19",
        "argon2$argon2i",
        "bcrypt$$2b$04",
        "bcrypt_sha256$$2a$05",
        "",
    ]);
    let piece = prop::string::string_regex("[0-9a-zA-Z+/=.,$ !é_-]{0,40}").expect("valid regex");
    let params = (0u32..300, 0u32..5, 0u32..5).prop_map(|(m, t, p)| format!("m={m},t={t},p={p}"));
    (prefix, prop::collection::vec(prop_oneof![piece, params, (0u64..100_000).prop_map(|n| n.to_string())], 0..7))
        .prop_map(|(prefix, pieces)| {
            let mut s = prefix.to_string();
            for p in pieces {
                s.push('$');
                s.push_str(&p);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(encoded in any::<String>(), password in any::<Vec<u8>>()) {
        parse_and_verify(&password, &encoded);
    }

    #[test]
    fn field_like_strings_never_panic_and_round_trip(encoded in field_like(), password in any::<Vec<u8>>()) {
        parse_and_verify(&password, &encoded);
    }

    #[test]
    fn unparseable_fields_never_verify(encoded in field_like(), password in any::<Vec<u8>>()) {
        if DjangoHash::parse(&encoded).is_err() {
            prop_assert!(Verifier::new(FUZZ_LIMITS).verify(&password, &encoded).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in any::<Vec<u8>>()) {
        djhash::fuzzing::fuzz_bytes(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// djhash's own PBKDF2-SHA256 loop gives the `pbkdf2` crate's bytes, for
    /// keys shorter and longer than a SHA-256 block.
    #[test]
    fn own_pbkdf2_loop_matches_the_pbkdf2_crate(
        password in prop::collection::vec(any::<u8>(), 0..150),
        salt in prop::collection::vec(any::<u8>(), 0..80),
        rounds in 1u32..300,
    ) {
        let mut expected = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(&password, &salt, rounds, &mut expected);
        prop_assert_eq!(djhash::pbkdf2_hmac_sha256(&password, &salt, rounds), expected);
    }
}
