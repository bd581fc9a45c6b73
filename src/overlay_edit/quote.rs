//! A value or a key as TOML text: a value in the quoting style of the one it replaces
//! (or of its sibling), escaped as a basic string when that style cannot hold it; a key
//! bare when it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QuoteStyle {
    Basic,
    Literal,
    MultiBasic,
    MultiLiteral,
}

pub(super) fn quote_style(raw: &str) -> QuoteStyle {
    if raw.starts_with("\"\"\"") {
        QuoteStyle::MultiBasic
    } else if raw.starts_with("'''") {
        QuoteStyle::MultiLiteral
    } else if raw.starts_with('\'') {
        QuoteStyle::Literal
    } else {
        QuoteStyle::Basic
    }
}

/// `value` as a TOML string in `style`. Values that a style cannot hold as they are
/// (quotes, backslashes, control characters) are written as escaped basic strings.
pub(super) fn quoted(value: &str, style: QuoteStyle) -> String {
    let plain = !value
        .chars()
        .any(|c| c == '"' || c == '\'' || c == '\\' || c.is_control());
    match style {
        _ if !plain => basic(value),
        QuoteStyle::Basic => format!("\"{value}\""),
        QuoteStyle::Literal => format!("'{value}'"),
        QuoteStyle::MultiBasic => format!("\"\"\"{value}\"\"\""),
        QuoteStyle::MultiLiteral => format!("'''{value}'''"),
    }
}

fn basic(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key as TOML text: bare when it can be, quoted otherwise.
pub(super) fn key_text(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_string()
    } else {
        basic(key)
    }
}
