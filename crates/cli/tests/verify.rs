//! `djedge verify` as a caller meets it: the real binary, stdin to stdout.
use std::io::Write as _;
use std::process::{Command, Stdio};

fn run_verify(args: &[&str], stdin: &[u8]) -> (Vec<serde_json::Value>, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_djedge"))
        .arg("verify")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("djedge starts");
    let mut child_stdin = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || child_stdin.write_all(&input));
    let output = child.wait_with_output().expect("djedge finishes");
    writer.join().expect("writer thread").expect("stdin accepted");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let lines = stdout.lines().map(|l| serde_json::from_str(l).expect("each output line is JSON")).collect();
    (lines, String::from_utf8_lossy(&output.stderr).into_owned(), output.status.success())
}

#[test]
fn answers_every_django_vector_in_order() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/vectors/django-4.2.json")).expect("fixture parses");
    let vectors = file["vectors"].as_array().expect("vectors array");
    let mut input = Vec::new();
    for v in vectors {
        let line = serde_json::json!({"encoded": v["encoded"], "password": v["password"]});
        input.extend_from_slice(line.to_string().as_bytes());
        input.push(b'\n');
    }
    let (out, stderr, ok) = run_verify(&[], &input);
    assert!(ok, "exit status, stderr: {stderr}");
    assert_eq!(out.len(), vectors.len());
    for (v, answer) in vectors.iter().zip(&out) {
        match &v["django"] {
            serde_json::Value::Bool(true) => assert_eq!(answer, &serde_json::json!({"ok": true}), "{v}"),
            serde_json::Value::Bool(false) => assert_eq!(answer["ok"], false, "{v}"),
            _ => assert!(answer["error"].is_string(), "Django raised, so an error is due: {v} -> {answer}"),
        }
    }
}

#[test]
fn bad_lines_get_an_error_line_and_the_run_goes_on() {
    let mut input = Vec::new();
    input.extend_from_slice(b"not json\n");
    input.extend_from_slice(b"{\"password\": \"x\"}\n");
    input.extend_from_slice(b"{\"encoded\": 5, \"password\": \"x\"}\n");
    input.extend_from_slice(b"\xff\xfe invalid utf-8\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&vec![b'a'; 3 << 20]);
    input.push(b'\n');
    input.extend_from_slice(
        b"{\"encoded\": \"md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3\", \"password\": \"l\\u00e8tmein\"}",
    );
    let (out, stderr, ok) = run_verify(&[], &input);
    assert!(ok, "stderr: {stderr}");
    assert_eq!(out.len(), 7, "one answer per line, the last without a newline too");
    for answer in &out[..6] {
        assert_eq!(answer["ok"], false);
        assert!(answer["error"].as_str().is_some_and(|e| e.starts_with("bad_input: ")), "{answer}");
    }
    assert_eq!(out[6], serde_json::json!({"ok": true}));
}

#[test]
fn unverifiable_fields_say_why() {
    let cases = [
        ("!unusable", "unusable: "),
        ("", "unusable: "),
        ("lolcat$salt$hash", "unknown_algorithm: "),
        ("pbkdf2_sha256$abc$salt$hash", "malformed: pbkdf2_sha256: "),
        ("crypt$$$1$saltsalt$hash", "unsupported: crypt: "),
        (
            "pbkdf2_sha256$4294967295$salt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",
            "over_cap: pbkdf2_iterations is 4294967295",
        ),
        (
            "argon2$argon2id$v=19$m=4194304,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw",
            "over_cap: argon2_memory_kib is 4194304",
        ),
        ("bcrypt$$2b$31$abcdefghijklmnopqrstuu5fiRH2sn7i6E3WHYvDEiS4FptjpfyDW", "over_cap: bcrypt_cost is 31"),
    ];
    let input: String = cases
        .iter()
        .map(|(encoded, _)| format!("{}\n", serde_json::json!({"encoded": encoded, "password": "secret"})))
        .collect();
    let (out, stderr, ok) = run_verify(&[], input.as_bytes());
    assert!(ok, "stderr: {stderr}");
    for ((encoded, expected), answer) in cases.iter().zip(&out) {
        assert_eq!(answer["ok"], false);
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(expected), "{encoded:?}: {error:?} should start with {expected:?}");
    }
}

#[test]
fn caps_are_configurable() {
    let line = "{\"encoded\": \"pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=\", \"password\": \"l\\u00e8tmein\"}\n";
    let (out, _, ok) = run_verify(&["--max-pbkdf2-iterations", "1000"], line.as_bytes());
    assert!(ok);
    assert_eq!(out[0]["error"], "over_cap: pbkdf2_iterations is 390000, over the cap of 1000");
    let (out, _, _) = run_verify(&[], line.as_bytes());
    assert_eq!(out[0], serde_json::json!({"ok": true}));
}

#[test]
fn a_bad_flag_is_one_sentence_and_a_non_zero_exit() {
    let output = Command::new(env!("CARGO_BIN_EXE_djedge"))
        .args(["verify", "--max-bcrypt-cost", "lots"])
        .stdin(Stdio::null())
        .output()
        .expect("djedge runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid value 'lots'"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
