//! Every conversion proven with an implementation other than djhash: for
//! each Django-made vector whose password Django accepts, the Auth0 form
//! verifies that password and refuses a wrong one.
use std::collections::BTreeMap;

use base64::Engine as _;
use djedge_migration::{CustomPasswordHash, Encoding, NoForm, SaltPosition, custom_password_hash};
use password_hash::PasswordVerifier as _;
use password_hash::phc::PasswordHash;

/// Does `form` accept `password`, computed the way Auth0 documents it?
fn auth0_accepts(form: &CustomPasswordHash, password: &[u8]) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    match form {
        CustomPasswordHash::Pbkdf2 { hash } => {
            assert_eq!(hash.encoding, Encoding::Utf8);
            let phc = PasswordHash::new(&hash.value).expect("a PHC string");
            let salt: &[u8] = phc.salt.as_ref().expect("a salt").as_ref();
            let rounds: u32 = phc.params.get("i").and_then(|v| v.decimal().ok()).expect("i=");
            let expected = phc.hash.as_ref().expect("a hash").as_ref();
            match phc.algorithm.as_str() {
                // RustCrypto's PHC verifier takes 1,000 iterations and up;
                // the random test vectors go lower (Django never did).
                "pbkdf2-sha256" if rounds >= 1000 => pbkdf2::Pbkdf2::default().verify_password(password, &phc).is_ok(),
                "pbkdf2-sha256" => {
                    let mut out = vec![0u8; expected.len()];
                    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out);
                    out == expected
                }
                "pbkdf2-sha1" => {
                    let mut out = vec![0u8; expected.len()];
                    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out);
                    out == expected
                }
                other => panic!("{other}"),
            }
        }
        CustomPasswordHash::Argon2 { hash } => {
            argon2::Argon2::default().verify_password(password, &PasswordHash::new(&hash.value).unwrap()).is_ok()
        }
        // Auth0 (node's bcrypt) reads the first 72 bytes, as pyca/bcrypt < 5 did.
        CustomPasswordHash::Bcrypt { hash } => {
            bcrypt::verify(password.get(..72).unwrap_or(password), &hash.value).unwrap()
        }
        CustomPasswordHash::Scrypt { hash, salt, keylen, cost, block_size, parallelization } => {
            assert_eq!((salt.encoding, salt.position, hash.encoding), (Encoding::Utf8, None, Encoding::Base64));
            let params = scrypt::Params::new(cost.trailing_zeros() as u8, *block_size, *parallelization).unwrap();
            let mut out = vec![0u8; *keylen as usize];
            scrypt::scrypt(password, salt.value.as_bytes(), &params, &mut out).unwrap();
            b64.encode(out) == hash.value
        }
        CustomPasswordHash::Md5 { hash, salt } | CustomPasswordHash::Sha1 { hash, salt } => {
            let mut input = Vec::new();
            if let Some(salt) = salt {
                assert_eq!((salt.encoding, salt.position), (Encoding::Utf8, Some(SaltPosition::Prefix)));
                input.extend_from_slice(salt.value.as_bytes());
            }
            input.extend_from_slice(password);
            let digest: Vec<u8> = if matches!(form, CustomPasswordHash::Md5 { .. }) {
                use md5::Digest as _;
                md5::Md5::digest(&input).to_vec()
            } else {
                use sha1::Digest as _;
                sha1::Sha1::digest(&input).to_vec()
            };
            assert_eq!(hash.encoding, Encoding::Hex);
            digest.iter().map(|b| format!("{b:02x}")).collect::<String>() == hash.value
        }
    }
}

fn check(json: &str) -> BTreeMap<String, usize> {
    let file: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut proven: BTreeMap<String, usize> = BTreeMap::new();
    for v in file["vectors"].as_array().unwrap() {
        let (encoded, password) = (v["encoded"].as_str().unwrap(), v["password"].as_str().unwrap());
        if v["django"] != serde_json::Value::Bool(true) {
            continue;
        }
        match custom_password_hash(encoded) {
            Ok(form) => {
                assert!(auth0_accepts(&form, password.as_bytes()), "{encoded} as {form:?} refuses {password:?}");
                let wrong = format!("{password}x");
                // bcrypt reads 72 bytes: a change past them is no change.
                if !(matches!(form, CustomPasswordHash::Bcrypt { .. }) && password.len() >= 72) {
                    assert!(!auth0_accepts(&form, wrong.as_bytes()), "{encoded} as {form:?} takes {wrong:?}");
                }
                *proven.entry(v["algorithm"].as_str().unwrap().to_string()).or_default() += 1;
            }
            Err(NoForm::NoAuth0Algorithm(a)) => assert!(matches!(a.name(), "bcrypt_sha256" | "crypt"), "{encoded}"),
            // Only random test vectors have such salts or digests; Django's never do.
            Err(NoForm::OutsidePhc) => *proven.entry("outside PHC, left to the edge".into()).or_default() += 1,
            Err(e) => panic!("{encoded}: {e}"),
        }
    }
    proven
}

#[test]
fn every_django_4_2_hash_auth0_can_take_verifies_the_same_passwords() {
    let proven = check(include_str!("../../../tests/vectors/django-4.2.json"));
    for algorithm in
        ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt", "scrypt", "md5", "sha1", "unsalted_md5", "unsalted_sha1"]
    {
        assert!(proven.get(algorithm).copied().unwrap_or(0) >= 5, "{algorithm}: {proven:?}");
    }
}

#[test]
fn every_django_5_2_hash_auth0_can_take_verifies_the_same_passwords() {
    let proven = check(include_str!("../../../tests/vectors/django-5.2.json"));
    for algorithm in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt", "scrypt", "md5"] {
        assert!(proven.get(algorithm).copied().unwrap_or(0) >= 5, "{algorithm}: {proven:?}");
    }
}

#[test]
fn the_forms_are_what_auth0_documents() {
    let form =
        custom_password_hash("pbkdf2_sha256$1000000$seasaltseasalt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
            .unwrap();
    assert_eq!(
        serde_json::to_string(&form).unwrap(),
        r#"{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha256$i=1000000,l=32$c2Vhc2FsdHNlYXNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","encoding":"utf8"}}"#
    );
    let md5 = custom_password_hash("md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3").unwrap();
    assert_eq!(
        serde_json::to_string(&md5).unwrap(),
        r#"{"algorithm":"md5","hash":{"value":"3f86d0d3d465b7b458c231bf3555c0e3","encoding":"hex"},"salt":{"value":"seasalt","encoding":"utf8","position":"prefix"}}"#
    );
    let scrypt = custom_password_hash(&format!("scrypt$16384$seasalt$8$5${}==", "A".repeat(86))).unwrap();
    assert_eq!(
        serde_json::to_string(&scrypt).unwrap(),
        format!(
            r#"{{"algorithm":"scrypt","hash":{{"value":"{}==","encoding":"base64"}},"salt":{{"value":"seasalt","encoding":"utf8"}},"keylen":64,"cost":16384,"blockSize":8,"parallelization":5}}"#,
            "A".repeat(86)
        )
    );
    assert_eq!(custom_password_hash("!unusable"), Err(NoForm::Unusable));
    assert!(matches!(
        custom_password_hash("bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu5z3pPD4L7B7Dd2bqI3y1Z/ZLqKRYk4y"),
        Err(NoForm::NoAuth0Algorithm(_))
    ));
}
