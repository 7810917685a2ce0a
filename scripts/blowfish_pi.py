"""Writes crates/djhash/src/blowfish_pi.rs: Blowfish's initial P-array and
S-boxes, which are the first 1,042 32-bit words of pi's fractional part in
hex (Schneier, 1993).

    python3 scripts/blowfish_pi.py

Pi comes from Machin's formula in integer fixed point with 64 guard bits.
The file's tests check known entries, and djhash's bcrypt tests check the
whole table against the `bcrypt` crate.
"""

import pathlib

P_WORDS, S_WORDS = 18, 4 * 256


def arctan_inverse(x, one):
    """arctan(1/x) * one, by its Taylor series."""
    total = term = one // x
    n, sign = 1, -1
    while term:
        term //= x * x
        total += sign * (term // (2 * n + 1))
        n, sign = n + 1, -sign
    return total


def pi_words(count):
    bits = 32 * count + 64
    one = 1 << bits
    pi = 16 * arctan_inverse(5, one) - 4 * arctan_inverse(239, one)
    fraction = pi - (3 << bits)
    return [(fraction >> (bits - 32 * (i + 1))) & 0xFFFFFFFF for i in range(count)]


def rust_array(name, words, doc):
    lines = ["/// %s" % doc, "#[rustfmt::skip]", "pub(crate) const %s: [u32; %d] = [" % (name, len(words))]
    for i in range(0, len(words), 8):
        lines.append("    " + " ".join("0x%08x," % w for w in words[i:i + 8]))
    lines.append("];")
    return "\n".join(lines)


def main():
    words = pi_words(P_WORDS + S_WORDS)
    text = "\n\n".join([
        "//! Blowfish's initial P-array and S-boxes: the first 1,042 words of pi's\n"
        "//! fractional part. Written by scripts/blowfish_pi.py; do not edit.",
        rust_array("P", words[:P_WORDS], "The P-array: pi's words 0 to 17."),
        rust_array("S", words[P_WORDS:], "The four S-boxes, one after another: pi's words 18 to 1,041."),
    ]) + "\n"
    out = pathlib.Path(__file__).resolve().parent.parent / "crates/djhash/src/blowfish_pi.rs"
    out.write_text(text)
    print("wrote", out)


if __name__ == "__main__":
    main()
