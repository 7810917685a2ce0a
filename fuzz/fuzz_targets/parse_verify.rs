#![no_main]
// Password on the first line, Django field after; see djhash::fuzzing.
libfuzzer_sys::fuzz_target!(|data: &[u8]| djhash::fuzzing::fuzz_bytes(data));
