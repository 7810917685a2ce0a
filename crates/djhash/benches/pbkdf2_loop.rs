//! Why djhash has its own PBKDF2-HMAC-SHA256 loop: the same 100,000
//! iterations through the `pbkdf2` crate and through djhash's loop over
//! sha2's compression function (run: `cargo bench -p djhash --bench pbkdf2_loop`).
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn pbkdf2_sha256(c: &mut Criterion) {
    let (password, salt, rounds) =
        (b"correct horse battery staple".as_slice(), b"oiVg0fBs8dp3nM2kR7aQ1z".as_slice(), 100_000);
    let mut group = c.benchmark_group("pbkdf2_sha256_100k");
    group.sample_size(20);
    group.bench_function("pbkdf2 crate", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(black_box(password), salt, rounds, &mut out);
            out
        })
    });
    group.bench_function("djhash loop", |b| b.iter(|| djhash::pbkdf2_hmac_sha256(black_box(password), salt, rounds)));
    group.finish();
}

criterion_group!(benches, pbkdf2_sha256);
criterion_main!(benches);
