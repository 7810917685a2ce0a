//! The vectors made by real Django (tests/vectors/generate.py): every verdict
//! Django gave, djhash must give too, natively and in Wasm.
use std::collections::BTreeMap;

use serde::Deserialize;

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[derive(Deserialize)]
struct VectorFile {
    generator: serde_json::Value,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    algorithm: String,
    case: String,
    encoded: String,
    password: String,
    well_formed: bool,
    django: Verdict,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Verdict {
    Bool(bool),
    /// Django raised while checking.
    Raised(String),
}

/// Checks one vector; returns a description of the disagreement, if any.
fn disagreement(v: &Vector) -> Option<String> {
    let ours = djhash::verify(v.password.as_bytes(), &v.encoded);
    let agrees = match (&v.django, &ours) {
        (Verdict::Bool(true), Ok(true)) => true,
        (Verdict::Bool(true), _) => false,
        // Django's "no": never a yes; for a field Django wrote, exactly "no".
        (Verdict::Bool(false), Ok(false)) => true,
        (Verdict::Bool(false), Err(_)) => !v.well_formed,
        (Verdict::Bool(false), Ok(true)) => false,
        // Django raised: the field cannot be checked, and we must say so.
        (Verdict::Raised(_), Err(_)) => true,
        (Verdict::Raised(_), Ok(_)) => false,
    };
    if !agrees {
        return Some(format!(
            "{} ({}): {:?} with {:?}: Django {:?}, djhash {:?}",
            v.algorithm, v.case, v.encoded, v.password, v.django, ours
        ));
    }
    // A field Django wrote and djhash parsed must write back byte for byte.
    if v.well_formed
        && let Ok(parsed) = djhash::DjangoHash::parse(&v.encoded)
    {
        if parsed.to_string() != v.encoded {
            return Some(format!("{:?} writes back as {:?}", v.encoded, parsed.to_string()));
        }
        // Its decoy keeps algorithm, cost and length, depends on nothing
        // else (it is its own decoy), and rejects the password that
        // matches the original.
        let decoy = parsed.decoy();
        let same_shape = decoy.len() == v.encoded.len()
            && djhash::DjangoHash::parse(&decoy)
                .is_ok_and(|d| d.algorithm() == parsed.algorithm() && d.cost() == parsed.cost() && d.decoy() == decoy);
        let expected = ours.as_ref().map(|_| false).map_err(|e| e.kind());
        if !same_shape || djhash::verify(v.password.as_bytes(), &decoy).map_err(|e| e.kind()) != expected {
            return Some(format!("{:?} has the decoy {decoy:?}", v.encoded));
        }
    }
    None
}

fn check_file(json: &str, min_vectors: usize, algorithms: &[&str]) {
    let file: VectorFile = serde_json::from_str(json).expect("the fixture is valid JSON");
    assert!(
        file.vectors.len() >= min_vectors,
        "fixture from {} has only {} vectors",
        file.generator,
        file.vectors.len()
    );
    let failures: Vec<String> = file.vectors.iter().filter_map(disagreement).collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree with Django:\n{}",
        failures.len(),
        file.vectors.len(),
        failures.join("\n")
    );

    // Every format must be covered by both a right and a wrong password.
    let mut seen: BTreeMap<(&str, bool), usize> = BTreeMap::new();
    for v in &file.vectors {
        if let Verdict::Bool(b) = v.django {
            *seen.entry((v.algorithm.as_str(), b)).or_default() += 1;
        }
    }
    for algorithm in algorithms {
        for verdict in [true, false] {
            let n = seen.get(&(*algorithm, verdict)).copied().unwrap_or(0);
            assert!(n >= 5, "{algorithm}: only {n} vectors where Django says {verdict}");
        }
    }
}

const MODERN: &[&str] = &["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt", "md5"];

#[test]
fn django_4_2_lts_including_legacy_hashers() {
    let legacy = ["sha1", "unsalted_sha1", "unsalted_md5", "crypt"];
    let all: Vec<&str> = MODERN.iter().copied().chain(legacy).collect();
    check_file(include_str!("../../../tests/vectors/django-4.2.json"), 1000, &all);
}

#[test]
fn django_5_2_newest() {
    check_file(include_str!("../../../tests/vectors/django-5.2.json"), 800, MODERN);
}
