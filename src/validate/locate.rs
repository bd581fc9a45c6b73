//! Where a field of a YAML document is in its text, for `kgen validate PATH`.
//!
//! serde_norway gives values, not positions, so this is a small, forgiving reader
//! of the YAML people and tools write for Kubernetes: it follows a field path
//! (`spec.template.spec.containers[0].image`) through indentation, `key:` lines and
//! `- ` list items, and on into flow collections (`labels: {app: web}`,
//! `args: [a, b]`, over several lines too), and returns the byte range of the key (or
//! of its value) where the path ends. Where the path cannot be followed, it returns
//! the deepest part it reached, at worst the document's first line: a diagnostic
//! always has a line to point at.

use std::ops::Range;

/// A segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Splits a rendered path (`a.b[0]["c.d/e"]`) into segments.
pub fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('[') {
            if r.starts_with('"') {
                // A JSON string, then `]`.
                let mut de = serde_json::Deserializer::from_str(r).into_iter::<String>();
                match de.next() {
                    Some(Ok(key)) => {
                        let used = de.byte_offset();
                        out.push(Segment::Key(key));
                        rest = r[used..].strip_prefix(']').unwrap_or(&r[used..]);
                    }
                    _ => break,
                }
            } else {
                let end = r.find(']').unwrap_or(r.len());
                match r[..end].parse() {
                    Ok(i) => out.push(Segment::Index(i)),
                    Err(_) => break,
                }
                rest = r.get(end + 1..).unwrap_or("");
            }
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        out.push(Segment::Key(rest[..end].to_string()));
        rest = &rest[end..];
    }
    out
}

/// One line of the document: where its content starts, its indentation, its text
/// (without the indentation and trailing whitespace).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// Byte offset of `text` in the document.
    at: usize,
    indent: usize,
    text: &'a str,
}

fn lines(doc: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in doc.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let content = body.trim_start_matches(' ');
        let indent = body.len() - content.len();
        let text = content.trim_end();
        if !text.is_empty() && !text.starts_with('#') && text != "---" && !text.starts_with("--- ")
        {
            out.push(Line {
                at: offset + indent,
                indent,
                text,
            });
        }
        offset += raw.len();
    }
    out
}

/// The byte range in `doc` of the field at `path` (or of the deepest part of it
/// that could be found). `value` asks for the value's range rather than the key's
/// when the value is on the key's line.
pub fn locate(doc: &str, path: &str, value: bool) -> Range<usize> {
    walk(doc, path, value).range
}

/// The byte range of the value at `path`, for a value that must be masked (a
/// secret): like `locate(doc, path, true)`, but a value written on the lines after
/// its key (a plain scalar continued on the next line, a `|` or `>` block) is located
/// too, as the range of those lines, rather than the key: pointing at the key would
/// mask the key's name and leave the value unpointed.
pub fn locate_value(doc: &str, path: &str) -> Range<usize> {
    let w = walk(doc, path, true);
    match (w.at_key, w.rest.first(), w.rest.last()) {
        (true, Some(first), Some(last)) => first.at..last.at + last.text.len(),
        _ => w.range,
    }
}

/// Where following a path ended.
struct Walk<'a> {
    range: Range<usize>,
    /// The whole path was followed and `range` is its last key's (the value is not
    /// on the key's line).
    at_key: bool,
    /// The lines of the last value reached (those after its key).
    rest: Vec<Line<'a>>,
}

fn walk<'a>(doc: &'a str, path: &str, value: bool) -> Walk<'a> {
    let all = lines(doc);
    let Some(first) = all.first() else {
        return Walk {
            range: 0..0,
            at_key: false,
            rest: Vec::new(),
        };
    };
    let mut best = first.at..first.at + first.text.len();
    let mut at_key = false;
    let mut followed = true;
    // The block being searched: lines, and the indentation its entries have.
    let mut block: Vec<Line> = all.clone();
    let segs = segments(path);
    for (n, seg) in segs.iter().enumerate() {
        at_key = false;
        let Some(head) = block.first().copied() else {
            followed = false;
            break;
        };
        // A flow collection where the next entry is looked for: followed in the text.
        if head.text.starts_with(['{', '[']) {
            let (range, _) = flow(doc, head.at, &segs[n..], value);
            return Walk {
                range: range.unwrap_or(best),
                at_key: false,
                rest: Vec::new(),
            };
        }
        let indent = head.indent;
        match seg.clone() {
            Segment::Key(key) => {
                let found = block
                    .iter()
                    .enumerate()
                    .find(|(_, l)| l.indent == indent && key_of(l.text).is_some_and(|k| k == key));
                let Some((i, line)) = found.map(|(i, l)| (i, *l)) else {
                    followed = false;
                    break;
                };
                let klen = key_len(line.text);
                let after = line.text[klen..].trim_start_matches(':').trim_start();
                let after_at = line.at + (line.text.len() - after.len());
                if n + 1 < segs.len() && after.starts_with(['{', '[']) {
                    // The rest of the path is in the flow collection after the key.
                    let (range, _) = flow(doc, after_at, &segs[n + 1..], value);
                    return Walk {
                        range: range.unwrap_or(line.at..line.at + klen),
                        at_key: false,
                        rest: Vec::new(),
                    };
                }
                best = if value
                    && !after.is_empty()
                    && !after.starts_with('|')
                    && !after.starts_with('>')
                {
                    let start = line.at + (line.text.len() - after.len());
                    start..line.at + line.text.len()
                } else {
                    at_key = true;
                    line.at..line.at + klen
                };
                // The value's lines: deeper than the key, or a list at the same indent.
                let mut next = Vec::new();
                for l in &block[i + 1..] {
                    if l.indent > indent || (l.indent == indent && l.text.starts_with('-')) {
                        next.push(*l);
                    } else {
                        break;
                    }
                }
                block = next;
            }
            Segment::Index(n) => {
                if !head.text.starts_with('-') {
                    followed = false;
                    break;
                }
                let starts: Vec<usize> = block
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.indent == indent && l.text.starts_with('-'))
                    .map(|(i, _)| i)
                    .collect();
                let Some(&start) = starts.get(n) else {
                    followed = false;
                    break;
                };
                let end = starts.get(n + 1).copied().unwrap_or_else(|| {
                    block[start + 1..]
                        .iter()
                        .position(|l| l.indent < indent)
                        .map_or(block.len(), |p| start + 1 + p)
                });
                let item = block[start];
                let inner = item.text[1..].trim_start();
                best = item.at..item.at + item.text.len();
                let mut next = Vec::new();
                if !inner.is_empty() {
                    let shift = item.text.len() - inner.len();
                    next.push(Line {
                        at: item.at + shift,
                        indent: item.indent + shift,
                        text: inner,
                    });
                }
                next.extend_from_slice(&block[start + 1..end]);
                block = next;
            }
        }
    }
    Walk {
        range: best,
        at_key: at_key && followed,
        rest: block,
    }
}

/// Follows `segs` into the flow collection (`{...}` or `[...]`) that starts at byte
/// `at` of `doc`, over as many lines as it takes: the range of the last key found
/// (of its value, with `value`; of the item, for an index), and whether the whole
/// path was followed. `None` when not even the first segment was found.
fn flow(doc: &str, at: usize, segs: &[Segment], value: bool) -> (Option<Range<usize>>, bool) {
    let b = doc.as_bytes();
    let Some((seg, rest)) = segs.split_first() else {
        return (None, true);
    };
    let mut i = at + 1;
    let mut index = 0;
    loop {
        i = skip_space(b, i);
        match b.get(i) {
            None | Some(b'}' | b']') => return (None, false),
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let (found, node) = match (b[at], seg) {
            (b'{', Segment::Key(key)) => {
                let k = i..scalar_end(b, i, true);
                let mut j = skip_space(b, k.end);
                if b.get(j) == Some(&b':') {
                    j = skip_space(b, j + 1);
                }
                let v = match b.get(j) {
                    Some(b',' | b'}') | None => j..j,
                    _ => j..node_end(b, j),
                };
                i = v.end.max(k.end);
                (unquote(&doc[k.clone()]) == *key, Some((k, v)))
            }
            (b'[', Segment::Index(n)) => {
                let v = i..node_end(b, i);
                i = v.end;
                index += 1;
                (index - 1 == *n, Some((v.clone(), v)))
            }
            _ => return (None, false),
        };
        let Some((k, v)) = node.filter(|_| found) else {
            continue;
        };
        if rest.is_empty() {
            let r = if value && !v.is_empty() { v } else { k };
            return (Some(r), true);
        }
        if matches!(b.get(v.start), Some(b'{' | b'[')) {
            let (inner, followed) = flow(doc, v.start, rest, value);
            return (inner.or(Some(k)), followed);
        }
        return (Some(k), false);
    }
}

/// Past spaces, tabs, line breaks and comments in a flow collection.
fn skip_space(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'#' => {
                while b.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    i
}

/// The end of the node (scalar or collection) that starts at `i` in a flow
/// collection: past its closing bracket or quote, or where a plain scalar ends.
fn node_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(&open @ (b'{' | b'[')) => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut j = i + 1;
            loop {
                j = skip_space(b, j);
                match b.get(j) {
                    None => return b.len(),
                    Some(&c) if c == close => return j + 1,
                    Some(b',' | b':') => j += 1,
                    Some(_) => j = node_end(b, j).max(j + 1),
                }
            }
        }
        _ => scalar_end(b, i, false),
    }
}

/// The end of the scalar at `i` in a flow collection: past its closing quote, or, for
/// a plain one, before the `,`, bracket or line break that ends it (and before a `:`
/// followed by a space when it is a `key`), trailing spaces left out.
fn scalar_end(b: &[u8], i: usize, key: bool) -> usize {
    match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            let mut j = i + 1;
            while let Some(&c) = b.get(j) {
                if c == b'\\' && q == b'"' {
                    j += 2;
                    continue;
                }
                if c == q {
                    if q == b'\'' && b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while let Some(&c) = b.get(j) {
                let colon = c == b':'
                    && matches!(b.get(j + 1), None | Some(b' ' | b'\n' | b',' | b'}' | b']'));
                if matches!(c, b',' | b'}' | b']' | b'\n' | b'\r') || (key && colon) {
                    break;
                }
                if c == b'#' && j > i && b[j - 1] == b' ' {
                    break;
                }
                j += 1;
            }
            while j > i && b[j - 1] == b' ' {
                j -= 1;
            }
            j
        }
    }
}

/// A flow key without its quotes.
fn unquote(k: &str) -> String {
    k.strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(k)
        .to_string()
}

/// The key of a `key: value` line (quotes removed), if it is one.
fn key_of(text: &str) -> Option<String> {
    let len = key_len(text);
    if len == 0 || !text[len..].starts_with(':') {
        return None;
    }
    let k = &text[..len];
    Some(
        k.strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .or_else(|| k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
            .unwrap_or(k)
            .to_string(),
    )
}

/// Length of the key at the start of a line (quoted or plain), 0 when none.
fn key_len(text: &str) -> usize {
    let b = text.as_bytes();
    match b.first() {
        Some(&q @ (b'"' | b'\'')) => b[1..].iter().position(|&c| c == q).map_or(0, |p| p + 2),
        Some(_) => text
            .find(": ")
            .or_else(|| text.strip_suffix(':').map(str::len))
            .unwrap_or(0),
        None => 0,
    }
}

/// The documents of a YAML stream: (byte offset, text) of each, split at `---`
/// lines (and ended by `...` lines).
pub fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    let mut ended = false;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let is_sep = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        let is_end = line == "..." || line.starts_with("... ");
        if is_sep || is_end {
            if !ended {
                out.push((start, &text[start..offset]));
            }
            ended = is_end;
            // A `--- ` line may carry content after the marker.
            start = if is_sep {
                offset + 3
            } else {
                offset + raw.len()
            };
            if is_sep {
                ended = false;
            }
        }
        offset += raw.len();
    }
    if !ended {
        out.push((start, &text[start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    \"app.kubernetes.io/name\": web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: side
        image: busybox
      - name: web
        image: nginx:latest
        ports:
          - containerPort: 80
            name: http
";

    fn at(path: &str, value: bool) -> &'static str {
        let r = locate(DOC, path, value);
        &DOC[r]
    }

    #[test]
    fn follows_keys_and_list_items() {
        assert_eq!(at("spec.replicas", true), "3");
        assert_eq!(at("spec.replicas", false), "replicas");
        assert_eq!(
            at("spec.template.spec.containers[1].image", true),
            "nginx:latest"
        );
        assert_eq!(at("spec.template.spec.containers[0].name", true), "side");
        assert_eq!(
            at("spec.template.spec.containers[1].ports[0].name", true),
            "http"
        );
        assert_eq!(
            at("metadata.labels[\"app.kubernetes.io/name\"]", true),
            "web"
        );
    }

    #[test]
    fn falls_back_to_the_deepest_part_found() {
        assert_eq!(
            at("spec.template.spec.containers[1].resources.limits", false),
            "- name: web"
        );
        assert_eq!(at("status", false), "apiVersion: apps/v1");
    }

    #[test]
    fn follows_paths_into_flow_collections() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, lables: {a: b}}\ndata: {x: \"1\", 'y': [1, [2, 3]]}\nlist:\n- {name: one, \"value\": 'it''s'}\nmulti: {\n  a: 1,  # one\n  b: {c: [x, y]}\n}\n";
        let at = |path: &str, value: bool| &doc[locate(doc, path, value)];
        assert_eq!(at("metadata.lables", false), "lables");
        assert_eq!(at("metadata.lables", true), "{a: b}");
        assert_eq!(at("metadata.lables.a", true), "b");
        assert_eq!(at("metadata.name", true), "extra");
        assert_eq!(at("data.y", true), "[1, [2, 3]]");
        assert_eq!(at("data.y", false), "'y'");
        assert_eq!(at("data.y[1][0]", true), "2");
        assert_eq!(at("data.x", true), "\"1\"");
        assert_eq!(at("list[0].value", true), "'it''s'");
        assert_eq!(at("list[0].name", false), "name");
        assert_eq!(at("multi.b.c[1]", true), "y");
        assert_eq!(at("multi.a", true), "1");
        // What is not there: the deepest part found.
        assert_eq!(at("metadata.labels", false), "metadata");
        assert_eq!(at("data.y[5]", false), "'y'");
        assert_eq!(at("data.x.deeper", false), "x");
        // A document all in flow style.
        let doc = "{kind: Pod, spec: {containers: [{name: a, image: b}]}}\n";
        assert_eq!(&doc[locate(doc, "spec.containers[0].image", true)], "b");
    }

    #[test]
    fn splits_streams_into_documents() {
        let text = "---\na: 1\n---\nb: 2\n...\n# trailing\n";
        let docs = documents(text);
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[0].1.trim(), "");
        assert_eq!(docs[1].1, "\na: 1\n");
        assert_eq!(docs[2].1, "\nb: 2\n");
        let docs = documents("a: 1\n---\nb: 2\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(&"a: 1\n---\nb: 2\n"[docs[1].0..], "\nb: 2\n");
    }

    #[test]
    fn path_segments() {
        assert_eq!(
            segments("a.b[2][\"x.y/z\"].c"),
            vec![
                Segment::Key("a".into()),
                Segment::Key("b".into()),
                Segment::Index(2),
                Segment::Key("x.y/z".into()),
                Segment::Key("c".into()),
            ]
        );
    }
}
