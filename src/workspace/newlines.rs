//! CRLF newlines in multi-line TOML strings, read as LF.
//!
//! A checkout with `core.autocrlf=true` (Windows) has CRLF line endings in
//! platform.toml and the overlays; a multi-line string (`"""…"""`, `'''…'''`: a
//! `files` entry, a config value) would then keep a `\r` at the end of each line, and
//! render other bytes (another config hash, pods rolled) than a Linux checkout. TOML
//! lets a parser normalise the newlines of multi-line strings; kgen reads them as LF.
//! The file's text itself is kept as it is (`bump-image` edits it in place, CRLF
//! kept), and so are its spans: only the parsed values change. A `\r\n` written as
//! escapes keeps its meaning.

use std::borrow::Cow;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Replaces, in `doc` (parsed from `text`), the value of every multi-line string
/// written with CRLF newlines by the value it has with LF newlines. For a text
/// without a `\r` there is nothing to do (the caller need not call it).
pub(super) fn crlf_to_lf(text: &str, doc: &mut DeTable<'_>) {
    for (_, v) in doc.iter_mut() {
        value(text, v);
    }
}

fn value(text: &str, v: &mut Spanned<DeValue<'_>>) {
    let span = v.span();
    match v.get_mut() {
        DeValue::String(s) => {
            let Some(raw) = text.get(span) else { return };
            if !(raw.starts_with("\"\"\"") || raw.starts_with("'''")) || !raw.contains("\r\n") {
                return;
            }
            // The string as written, its newlines LF: decoded again, escapes and
            // line-ending backslashes mean what they meant.
            if let Ok(lf) = DeValue::parse(&raw.replace("\r\n", "\n")) {
                if let DeValue::String(decoded) = lf.into_inner() {
                    *s = Cow::Owned(decoded.into_owned());
                }
            }
        }
        DeValue::Array(a) => {
            for v in a.iter_mut() {
                value(text, v);
            }
        }
        DeValue::Table(t) => crlf_to_lf(text, t),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(text: &str) -> Vec<String> {
        let mut doc = DeTable::parse(text).unwrap();
        crlf_to_lf(text, doc.get_mut());
        let mut out = Vec::new();
        fn walk(t: &DeTable<'_>, out: &mut Vec<String>) {
            for (_, v) in t.iter() {
                match v.get_ref() {
                    DeValue::String(s) => out.push(s.to_string()),
                    DeValue::Table(t) => walk(t, out),
                    DeValue::Array(a) => {
                        for v in a {
                            if let DeValue::String(s) = v.get_ref() {
                                out.push(s.to_string());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        walk(doc.get_ref(), &mut out);
        out
    }

    #[test]
    fn multi_line_strings_read_the_same_with_crlf_and_lf() {
        let lf = "[s]\na = \"\"\"\nx: 1\ny: \\r\\n\n\"\"\"\nb = '''\nq\n  r\n'''\nc = [\"\"\"\nl1\nl2\"\"\"]\nd = \"\"\"one \\\n  two\"\"\"\ne = \"k\\r\\n\"\n[s.t]\nf = '''\nz\n'''\n";
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(
            strings(&crlf),
            [
                "x: 1\ny: \r\n\n",
                "q\n  r\n",
                "l1\nl2",
                "one two",
                "k\r\n",
                "z\n"
            ]
        );
        assert_eq!(strings(&crlf), strings(lf));
    }
}
