//! Verify time per format at Django's default costs (run: `cargo bench -p
//! djhash`). The encoded strings are the ones real Django made for the
//! vector fixtures; bench/compare.py times the same formats against Django's
//! own check_password in one run.
use criterion::{Criterion, criterion_group, criterion_main};
use djhash::{Cost, DjangoHash, Verifier};
use serde_json::Value;

/// For each algorithm, the vector Django accepted with the highest cost:
/// the default-cost hashes generate.py makes.
fn default_cost_vectors() -> Vec<(String, String, String)> {
    let mut best: Vec<(String, String, String, u64)> = Vec::new();
    for json in
        [include_str!("../../../tests/vectors/django-5.2.json"), include_str!("../../../tests/vectors/django-4.2.json")]
    {
        let file: Value = serde_json::from_str(json).expect("fixture parses");
        for v in file["vectors"].as_array().expect("vectors") {
            let (Some(encoded), Some(password)) = (v["encoded"].as_str(), v["password"].as_str()) else { continue };
            if v["django"] != Value::Bool(true) {
                continue;
            }
            let Ok(hash) = DjangoHash::parse(encoded) else { continue };
            let name = hash.algorithm().name().to_string();
            let (label, cost) = match hash.cost() {
                Some(Cost::Pbkdf2(params)) => (name, params.iterations()),
                Some(Cost::Argon2(params)) => {
                    ("argon2".into(), u64::from(params.memory_kib()) * u64::from(params.passes()))
                }
                Some(Cost::Bcrypt(params)) => (name, u64::from(params.cost())),
                Some(Cost::Scrypt(params)) => {
                    (format!("scrypt_p{}", params.p()), params.n() * u64::from(params.r()) * u64::from(params.p()))
                }
                None => (name, 0),
            };
            match best.iter_mut().find(|b| b.0 == label) {
                Some(b) if b.3 >= cost => {}
                Some(b) => *b = (label, encoded.into(), password.into(), cost),
                None => best.push((label, encoded.into(), password.into(), cost)),
            }
        }
    }
    best.into_iter()
        .filter(|b| !b.0.starts_with("scrypt_p") || b.0 == "scrypt_p1" || b.0 == "scrypt_p5")
        .map(|(l, e, p, _)| (l, e, p))
        .collect()
}

fn formats(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify_at_django_defaults");
    group.sample_size(10);
    let mut verifier = Verifier::default();
    for (label, encoded, password) in default_cost_vectors() {
        assert_eq!(verifier.verify(password.as_bytes(), &encoded), Ok(true), "{encoded}");
        group.bench_function(format!("{label} {}", encoded.split('$').take(4).collect::<Vec<_>>().join("$")), |b| {
            b.iter(|| verifier.verify(password.as_bytes(), &encoded))
        });
    }
    group.finish();
}

fn parse_only(c: &mut Criterion) {
    let encoded = "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw";
    c.bench_function("parse argon2 field", |b| b.iter(|| DjangoHash::parse(std::hint::black_box(encoded))));
}

criterion_group!(benches, formats, parse_only);
criterion_main!(benches);
