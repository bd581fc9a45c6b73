//! Reading the YAML that people write for kgen: hand-written manifests (and the files
//! given to `kgen validate PATH`) and patch files. One reader for all of them, so that
//! they accept and refuse the same things.
//!
//! The text is read by serde_norway (YAML 1.2) into a JSON value, exactly as
//! `serde_json::Value`'s own `Deserialize` builds it, with two differences: a whole
//! number written as a float (`80.0`, `1e3`) is read as the integer, as kubectl reads
//! it (see `visit_f64`); and a key
//! written twice in one mapping is an error (KG115), not silently "the last one
//! wins". YAML says the keys of a mapping are unique, and kubectl refuses such a file
//! (kustomize and `kubectl apply` decode strictly, through go-yaml v3:
//! `mapping key "data" already defined at line 5`, yaml.v3 decode.go, `d.mapping`).
//! kgen would otherwise render a file with part of its data dropped.
//!
//! The error names both places: the second key (where serde_norway reports the error,
//! since it is raised while that key is read) and the line of the first (found by
//! following the mapping's path through the text, `validate::locate`).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Number, Value};

use crate::diagnostic::Diagnostic;
use crate::rules;
use crate::source::{FileId, Origin};
use crate::validate::{locate, FieldPath};

/// A key written twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    /// The path of the mapping in the document (`metadata.annotations`, `` for the root).
    pub mapping: String,
}

/// Why a text could not be read.
#[derive(Debug)]
pub struct YamlError {
    /// serde_norway's message, without its ` at line ...` (the diagnostic locates it).
    pub message: String,
    /// Byte offset in the text where the parser stopped (for a duplicate key: the
    /// second key).
    pub index: Option<usize>,
    pub duplicate: Option<DuplicateKey>,
}

/// Reads one YAML document (`text`) into a JSON value; a key written twice in one
/// mapping is an error.
pub fn from_str(text: &str) -> Result<Value, YamlError> {
    let dup = RefCell::new(None);
    let de = serde_norway::Deserializer::from_str(text);
    ValueSeed {
        path: None,
        dup: &dup,
    }
    .deserialize(de)
    .map_err(|e| {
        let mut message = e.to_string();
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        // A parser that ran out of text (an unclosed `{` at the end) stops past the
        // last line: point at the last character written instead, so the snippet
        // shows it rather than an empty line after the file.
        let content = text.trim_end();
        let last = content.char_indices().last().map(|(i, _)| i);
        let index = e.location().map(|l| l.index()).map(|i| match last {
            Some(last) if i >= content.len() => last,
            _ => i,
        });
        YamlError {
            message,
            index,
            duplicate: dup.into_inner(),
        }
    })
}

/// KG115 for a key written twice: at the second key of `doc` (which starts at byte
/// `start` of file `file`, whose text is `file_text`), naming the line of the first.
pub fn duplicate_key_diagnostic(
    file: FileId,
    file_text: &str,
    start: usize,
    doc: &str,
    index: usize,
    d: &DuplicateKey,
) -> Diagnostic {
    let at = start + index.min(doc.len());
    let len = if file_text[at..].starts_with(d.key.as_str()) && !d.key.is_empty() {
        d.key.len()
    } else {
        1
    };
    let path = match d.mapping.as_str() {
        "" => FieldPath::root().key(&d.key),
        m => FieldPath::from(m).key(&d.key),
    };
    let first = start + locate::locate(doc, path.as_str(), false).start;
    let first_line = file_text[..first.min(file_text.len())]
        .matches('\n')
        .count()
        + 1;
    let key = &d.key;
    Diagnostic::error(
        rules::YAML,
        format!("not valid YAML: the key `{key}` is written twice in one mapping (first on line {first_line})"),
    )
    .at(Origin::new(file, at..at + len))
    .label("written again here")
    .help(format!(
        "keep one `{key}`, holding what both should: the keys of a YAML mapping are unique; kubectl refuses the file, and a reader that accepts it keeps only the last value"
    ))
}

/// A segment of the path to the value being read (no allocation while reading).
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Node<'a> {
    parent: Option<&'a Node<'a>>,
    seg: Seg<'a>,
}

fn render(node: Option<&Node>) -> String {
    let mut segs = Vec::new();
    let mut n = node;
    while let Some(x) = n {
        segs.push(&x.seg);
        n = x.parent;
    }
    let mut path = FieldPath::root();
    for s in segs.into_iter().rev() {
        path = match s {
            Seg::Key(k) => path.key(k),
            Seg::Index(i) => path.index(*i),
        };
    }
    path.as_str().to_string()
}

#[derive(Clone, Copy)]
struct ValueSeed<'a> {
    path: Option<&'a Node<'a>>,
    dup: &'a RefCell<Option<DuplicateKey>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// What `serde_json::Value`'s `Deserialize` does (serde_json, src/value/de.rs,
/// `ValueVisitor`), with the keys of a mapping checked for duplicates.
impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Number::deserialize(de::value::I128Deserializer::new(v)).map(Value::Number)
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Number::deserialize(de::value::U128Deserializer::new(v)).map(Value::Number)
    }

    /// A whole number written as a float (`80.0`, `1e3`) is the integer, as kubectl
    /// and Argo CD read it: sigs.k8s.io/yaml's `YAMLToJSON` keeps it a float64, and
    /// Go's `encoding/json` (`floatEncoder`) writes that float64 as `80`, which the API
    /// server then decodes into an integer field. kgen writes what they send.
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e18 {
            return Ok(Value::Number((v as i64).into()));
        }
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let node = Node {
                parent: self.path,
                seg: Seg::Index(out.len()),
            };
            let seed = ValueSeed {
                path: Some(&node),
                dup: self.dup,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        loop {
            let key = map.next_key_seed(KeySeed {
                map: &out,
                path: self.path,
                dup: self.dup,
            })?;
            let Some(key) = key else {
                break;
            };
            let node = Node {
                parent: self.path,
                seg: Seg::Key(&key),
            };
            let value = map.next_value_seed(ValueSeed {
                path: Some(&node),
                dup: self.dup,
            })?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A key of a mapping, refused when the mapping has it already: the error is raised
/// while the key is read, so serde_norway locates it at that key.
struct KeySeed<'a> {
    map: &'a Map<String, Value>,
    path: Option<&'a Node<'a>>,
    dup: &'a RefCell<Option<DuplicateKey>>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.visit_string(v.to_string())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        if self.map.contains_key(&v) {
            let message = format!("duplicate key `{v}`");
            *self.dup.borrow_mut() = Some(DuplicateKey {
                key: v,
                mapping: render(self.path),
            });
            return Err(E::custom(message));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same values as `serde_json::Value`'s own reading, for what has no
    /// duplicate key.
    #[test]
    fn reads_like_serde_json_value() {
        for text in [
            "a: 1\nb: [x, 2.5, true, null, ~]\nc: {d: -3, e: \"0644\"}\nf: 0644\n",
            "- 18446744073709551615\n- -9223372036854775808\n- .inf\n- 2.5e-3\n- 1.5\n",
            "x: &a {y: 1}\nz: *a\n\"1\": one\n2: two\n",
            "",
        ] {
            let ours = from_str(text).unwrap();
            let theirs: Value = serde_norway::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    /// Whole numbers written as floats are integers, as kubectl sends them; other
    /// floats stay floats (external review 31, F1 and F2).
    #[test]
    fn whole_floats_are_integers() {
        let v =
            from_str("port: 8.0e1\ntarget: 1000.0\nneg: -3.0\nratio: 0.5\nbig: 1e300\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!({"port": 80, "target": 1000, "neg": -3, "ratio": 0.5, "big": 1e300})
        );
        assert!(v["port"].is_i64());
    }

    #[test]
    fn duplicate_keys_are_refused_where_the_second_is() {
        let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: \"1\"\ndata:\n  y: \"2\"\n";
        let e = from_str(text).unwrap_err();
        assert_eq!(
            e.duplicate,
            Some(DuplicateKey {
                key: "data".into(),
                mapping: String::new()
            })
        );
        assert_eq!(e.index, Some(text.rfind("data").unwrap()));

        let text = "metadata:\n  annotations: {a: \"1\", a: \"2\"}\n";
        let e = from_str(text).unwrap_err();
        assert_eq!(
            e.duplicate,
            Some(DuplicateKey {
                key: "a".into(),
                mapping: "metadata.annotations".into()
            })
        );
        assert_eq!(e.index, Some(text.rfind("a:").unwrap()));

        let text = "- op: add\n  path: /x\n  path: /y\n";
        let e = from_str(text).unwrap_err();
        assert_eq!(e.duplicate.unwrap().mapping, "[0]");
    }
}
