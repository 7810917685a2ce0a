//! `djedge verify`: JSON lines in, one verdict line out per input line.

use std::io::{self, BufRead, BufReader, BufWriter, Read as _, Write};

use serde::{Deserialize, Serialize};

/// A line longer than this is answered with an error and skipped: no input
/// can make the tool buffer without bound.
const MAX_LINE_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
struct Request {
    encoded: String,
    password: String,
}

#[derive(Serialize)]
struct Verdict {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(crate) fn run(limits: &djhash::Limits) -> Result<(), crate::Failure> {
    // Our own BufReader, not StdinLock: its buffer() tells when no input waits.
    let mut input = BufReader::with_capacity(64 * 1024, io::stdin().lock());
    let mut output = BufWriter::new(io::stdout().lock());
    let mut verifier = djhash::Verifier::new(*limits);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut input).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut line).map_err(read_error)?;
        if read == 0 {
            break;
        }
        let verdict = if line.len() as u64 > MAX_LINE_BYTES && line.last() != Some(&b'\n') {
            skip_rest_of_line(&mut input)?;
            bad_input("the line is longer than 1 MiB")
        } else if line.iter().all(u8::is_ascii_whitespace) {
            bad_input("the line is empty")
        } else {
            match serde_json::from_slice::<Request>(&line) {
                Ok(request) => check(&mut verifier, &request),
                Err(e) => bad_input(&e.to_string()),
            }
        };
        serde_json::to_writer(&mut output, &verdict).map_err(|e| write_error(e.into()))?;
        output.write_all(b"\n").map_err(write_error)?;
        // Flush whenever no more input is waiting, so an interactive caller
        // gets each answer at once while a pipe still gets large writes.
        if input.buffer().is_empty() {
            output.flush().map_err(write_error)?;
        }
    }
    Ok(output.flush().map_err(write_error)?)
}

fn check(verifier: &mut djhash::Verifier, request: &Request) -> Verdict {
    match verifier.verify(request.password.as_bytes(), &request.encoded) {
        Ok(ok) => Verdict { ok, error: None },
        Err(e) => Verdict { ok: false, error: Some(e.to_string()) },
    }
}

fn bad_input(detail: &str) -> Verdict {
    Verdict { ok: false, error: Some(format!("bad_input: {detail}")) }
}

fn skip_rest_of_line(input: &mut impl BufRead) -> Result<(), crate::Failure> {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let read = input.take(MAX_LINE_BYTES).read_until(b'\n', &mut sink).map_err(read_error)?;
        if read == 0 || sink.last() == Some(&b'\n') {
            return Ok(());
        }
    }
}

fn read_error(e: io::Error) -> String {
    format!("could not read standard input: {e}.")
}

fn write_error(e: io::Error) -> String {
    format!("could not write standard output: {e}.")
}
