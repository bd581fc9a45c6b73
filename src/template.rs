//! Templated strings: minijinja expressions such as `{{ env.name }}/{{ service }}/db`.
//!
//! The environment is locked down: undefined variables are errors (strict), there is
//! no loader (templates cannot include or read files), no access to the process
//! environment or network, a fuel limit stops runaway loops, and the output size is
//! capped. Strings without `{{`, `{%` or `{#` are returned as they are, without
//! touching minijinja.
//!
//! Work is bounded, not only time: a template is at most [`MAX_SOURCE`] bytes; it may
//! use the statements `if` and `for` only (no `set`, `macro`, `call`, `filter` blocks
//! or recursive loops, which could double a value at every step); the `*` and `**`
//! operators are refused (`"x" * 100000000` and `[x] * 100000000` allocate at once);
//! the only function is `range` (at most 100,000 items); and every filter is a
//! checked wrapper that refuses arguments or results larger than [`MAX_OUTPUT`]
//! (`replace` and `join` compute the size of their result before building it).
//! So every value a template computes is bounded by the length of its source times
//! [`MAX_OUTPUT`], and its output is cut off at [`MAX_OUTPUT`] as it is written.

use std::cell::RefCell;
use std::collections::HashMap;

use minijinja::value::Rest;
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

/// Instructions one template may execute.
pub const FUEL: u64 = 20_000;
/// Largest output of one template, in bytes; also the largest argument or result of a filter.
pub const MAX_OUTPUT: usize = 64 * 1024;
/// Longest template source, in bytes.
pub const MAX_SOURCE: usize = 8 * 1024;
/// Deepest nesting of loops, conditions and expressions (minijinja's recursion limit).
pub const RECURSION_LIMIT: usize = 32;
/// The statements a template may use.
pub const STATEMENTS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor"];

/// A sandboxed minijinja environment plus a cache: each distinct template source is
/// checked and compiled once per run (the same `{{ env.name }}/{{ service }}` is rendered
/// for every service in every environment).
pub struct Templates {
    env: RefCell<Environment<'static>>,
    /// Sources seen so far: `Ok` when compiled into `env` under their own text as name.
    checked: RefCell<HashMap<String, Result<(), String>>>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        // Filters and tests are pure functions over values. There is no loader, so
        // `include`/`import`/`extends` fail (and are refused before that), and nothing
        // here reads the process environment or the network. `Environment::empty`
        // starts without any filter, test or global: only the ones below exist.
        let mut env = Environment::empty();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A template's output is its text with the expressions replaced, nothing else:
        // minijinja drops one final newline by default, which would make a file's
        // content (`files.<name>.content`) lose its last line ending only when it
        // holds a template, and a string without a template is returned untouched.
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        // What a template writes is a YAML or TOML value's text: booleans as `true` and
        // `false` (minijinja writes Python's `True` and `False`), and a setting that is
        // not set (`none`: `cluster.server` of a cluster known by `destination_name`)
        // is an error, not the word `None` in a manifest.
        env.set_formatter(|out, state, value| match value.kind() {
            minijinja::value::ValueKind::Bool => {
                out.write_str(if value.is_true() { "true" } else { "false" })
                    .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
            }
            minijinja::value::ValueKind::None => Err(Error::new(
                ErrorKind::InvalidOperation,
                "the template writes a setting that is not set (none): `cluster.server` of a cluster known by `destination_name`, or `cluster.destination_name` of one known by `server`; test it first (`{% if cluster.server %}...{% endif %}`)",
            )),
            _ => minijinja::escape_formatter(out, state, value),
        });
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        sandbox::install(&mut env);
        Templates {
            env: RefCell::new(env),
            checked: RefCell::new(HashMap::new()),
        }
    }

    /// True when `s` contains template syntax.
    pub fn is_template(s: &str) -> bool {
        // `{{`, `{%` or `{#` anywhere, in one pass (it runs on every value).
        let b = s.as_bytes();
        b.iter()
            .enumerate()
            .any(|(i, &c)| c == b'{' && matches!(b.get(i + 1), Some(b'{' | b'%' | b'#')))
    }

    /// Renders `source` with `ctx`. The error is one sentence for a diagnostic, with
    /// the undefined name when that is why.
    pub fn render(&self, source: &str, ctx: &Value) -> Result<String, RenderError> {
        if !Self::is_template(source) {
            return Ok(source.to_string());
        }
        self.prepare(source)?;
        let env = self.env.borrow();
        let tmpl = env.get_template(source).map_err(|e| describe(&e))?;
        let mut out = sandbox::CappedWriter::default();
        match tmpl.render_captured_to(ctx, &mut out) {
            Ok(_) => {}
            Err(_) if out.overflowed => {
                return Err(format!(
                    "the template expands to more than the limit of {MAX_OUTPUT} bytes"
                )
                .into())
            }
            Err(e) => {
                // An undefined value is named from the template and the context,
                // not from the error's detail, which minijinja gives in debug builds
                // only: the message is the same in every build.
                if e.kind() != minijinja::ErrorKind::UndefinedError {
                    return Err(describe(&e).into());
                }
                let Some(name) = first_undefined(&tmpl, ctx) else {
                    return Err("undefined value in template".to_string().into());
                };
                let mut message = format!("undefined value in template: `{name}` is undefined");
                if let Some(hint) = suggestion(&name, ctx) {
                    message.push_str(&format!(" ({hint})"));
                }
                return Err(RenderError {
                    message,
                    undefined: Some(name),
                });
            }
        }
        String::from_utf8(out.bytes)
            .map_err(|_| "template error: the output is not UTF-8".to_string().into())
    }
}

/// Why a template could not be rendered: one sentence for a diagnostic, and the
/// undefined name (`cluster.eks_name`, `namespaces['api']`) when that was why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub message: String,
    pub undefined: Option<String>,
}

impl From<String> for RenderError {
    fn from(message: String) -> Self {
        RenderError {
            message,
            undefined: None,
        }
    }
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Templates {
    /// Checks and compiles `source` once; later calls return the first answer.
    fn prepare(&self, source: &str) -> Result<(), String> {
        if let Some(known) = self.checked.borrow().get(source) {
            return known.clone();
        }
        let result = if source.len() > MAX_SOURCE {
            Err(format!(
                "the template is {} bytes long, more than the limit of {MAX_SOURCE}",
                source.len()
            ))
        } else {
            sandbox::check_source(source).and_then(|()| {
                self.env
                    .borrow_mut()
                    .add_template_owned(source.to_string(), source.to_string())
                    .map_err(|e| describe(&e))
            })
        };
        self.checked
            .borrow_mut()
            .insert(source.to_string(), result.clone());
        result
    }
}

/// The first name of the template (`env.domian`, `clustr`), in the order of the
/// source, that the context does not define: what an undefined error without a
/// detail is about. A name defined in the template itself (a loop variable) is not
/// one of its undeclared variables.
fn first_undefined(tmpl: &minijinja::Template<'_, '_>, ctx: &Value) -> Option<String> {
    let source = tmpl.source();
    let mut names: Vec<String> = tmpl.undeclared_variables(true).into_iter().collect();
    names.sort_by_key(|n| (source.find(n.as_str()).unwrap_or(usize::MAX), n.clone()));
    let undefined = names.into_iter().find(|name| {
        let mut parts = name.split('.');
        let root = parts.next().unwrap_or_default();
        let mut v = match ctx.get_attr(root) {
            Ok(v) if !v.is_undefined() => v,
            _ => return true,
        };
        for part in parts {
            match v.get_attr(part) {
                Ok(next) if !next.is_undefined() => v = next,
                _ => return true,
            }
        }
        false
    });
    undefined.or_else(|| first_undefined_item(source, ctx))
}

/// The first `name['key']` (or `name["key"]`) of `source` whose `name` is in the
/// context and has no `key`: `namespaces['api']` of a service not in the environment.
fn first_undefined_item(source: &str, ctx: &Value) -> Option<String> {
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(i) = source[from..].find('[').map(|i| i + from) {
        from = i + 1;
        let root_start = source[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |j| j + 1);
        let root = &source[root_start..i];
        let Some(&quote) = bytes.get(i + 1).filter(|q| **q == b'\'' || **q == b'"') else {
            continue;
        };
        let rest = &source[i + 2..];
        let Some(end) = rest.find(quote as char) else {
            continue;
        };
        let key = &rest[..end];
        if root.is_empty() || !rest[end + 1..].starts_with(']') {
            continue;
        }
        let Ok(scope) = ctx.get_attr(root) else {
            continue;
        };
        if scope.is_undefined() {
            continue;
        }
        if scope
            .get_item(&Value::from(key))
            .map_or(true, |v| v.is_undefined())
        {
            return Some(format!("{root}['{key}']"));
        }
    }
    None
}

/// "did you mean `env.domain`?" for an undefined `env.domian` (or `clustr`): the
/// nearest name the context has at that place.
fn suggestion(name: &str, ctx: &Value) -> Option<String> {
    if let Some((root, key)) = name.strip_suffix("']").and_then(|n| n.split_once("['")) {
        let keys: Vec<String> = ctx
            .get_attr(root)
            .ok()?
            .try_iter()
            .ok()?
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        let meant = crate::diagnostic::closest(key, keys.iter().map(String::as_str))?;
        return Some(format!("did you mean `{root}['{meant}']`?"));
    }
    let (scope, attr, prefix) = match name.split_once('.') {
        Some((root, attr)) if !attr.contains('.') => {
            (ctx.get_attr(root).ok()?, attr, format!("{root}."))
        }
        Some(_) => return None,
        None => (ctx.clone(), name, String::new()),
    };
    let keys: Vec<String> = scope
        .try_iter()
        .ok()?
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    let hint = crate::diagnostic::did_you_mean(attr, keys.iter().map(String::as_str))?;
    Some(hint.replacen("did you mean `", &format!("did you mean `{prefix}"), 1))
}

fn describe(e: &minijinja::Error) -> String {
    use minijinja::ErrorKind;
    let detail = e.detail().map(str::to_string);
    match e.kind() {
        ErrorKind::UndefinedError => "undefined value in template".to_string(),
        ErrorKind::OutOfFuel => {
            format!("the template ran for too long (more than {FUEL} steps) and was stopped")
        }
        ErrorKind::SyntaxError => format!(
            "template syntax error: {}",
            detail.unwrap_or_else(|| e.kind().to_string())
        ),
        _ => match detail {
            Some(d) => format!("template error: {}: {d}", e.kind()),
            None => format!("template error: {}", e.kind()),
        },
    }
}

/// The locked-down parts of the environment: which statements, operators, filters,
/// tests and functions a template may use, and the size checks around them.
mod sandbox {
    use super::*;
    use minijinja::machinery::{tokenize, Token};

    /// Refuses statements other than [`STATEMENTS`], recursive loops, and `*`/`**`.
    /// Uses minijinja's own lexer, so the check sees exactly the tokens the parser will.
    pub fn check_source(source: &str) -> Result<(), String> {
        let mut statement_start = false;
        let mut in_for = false;
        for token in tokenize(source, false, Default::default()) {
            let (token, _) = token.map_err(|e| describe(&e))?;
            match token {
                Token::BlockStart => {
                    statement_start = true;
                    continue;
                }
                Token::BlockEnd => in_for = false,
                Token::Ident(word) if statement_start => {
                    if !STATEMENTS.contains(&word) {
                        return Err(format!(
                            "template error: `{{% {word} %}}` is not available in kgen templates (only `if` and `for` statements are)"
                        ));
                    }
                    in_for = word == "for";
                }
                Token::Ident("recursive") if in_for => {
                    return Err(
                        "template error: recursive loops are not available in kgen templates".into(),
                    )
                }
                Token::Mul | Token::Pow => {
                    return Err(
                        "template error: the `*` and `**` operators are not available in kgen templates"
                            .into(),
                    )
                }
                _ => {}
            }
            statement_start = false;
        }
        Ok(())
    }

    /// Collects output up to [`MAX_OUTPUT`] bytes, then fails the render.
    #[derive(Default)]
    pub struct CappedWriter {
        pub bytes: Vec<u8>,
        pub overflowed: bool,
    }

    impl std::io::Write for CappedWriter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.bytes.len() + buf.len() > MAX_OUTPUT {
                self.overflowed = true;
                return Err(std::io::Error::other("template output limit"));
            }
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn too_large() -> Error {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("a value in the template is larger than the limit of {MAX_OUTPUT} bytes"),
        )
    }

    /// Approximate size of a value in bytes, counting at most up to `budget + 1`.
    fn size(v: &Value, budget: usize) -> usize {
        use minijinja::value::ValueKind;
        match v.kind() {
            ValueKind::String | ValueKind::Bytes => v
                .as_str()
                .map_or_else(|| v.as_bytes().map_or(0, <[u8]>::len), str::len),
            ValueKind::Seq | ValueKind::Iterable | ValueKind::Map => {
                let is_map = v.kind() == ValueKind::Map;
                let Ok(iter) = v.try_iter() else { return 8 };
                let mut total = 0usize;
                for item in iter {
                    total += 8 + size(&item, budget.saturating_sub(total));
                    if is_map {
                        if let Ok(value) = v.get_item(&item) {
                            total += size(&value, budget.saturating_sub(total));
                        }
                    }
                    if total > budget {
                        return total;
                    }
                }
                total
            }
            _ => 8,
        }
    }

    fn check(values: &[Value]) -> Result<(), Error> {
        let mut total = 0usize;
        for v in values {
            total += size(v, MAX_OUTPUT.saturating_sub(total));
            if total > MAX_OUTPUT {
                return Err(too_large());
            }
        }
        Ok(())
    }

    /// Registers `f` as filter `name`, refusing large arguments and results.
    fn filter(env: &mut Environment<'static>, name: &'static str, f: Value) {
        env.add_filter(
            name,
            move |state: &mut State, args: Rest<Value>| -> Result<Value, Error> {
                check(&args)?;
                let out = f.call(state, &args)?;
                check(std::slice::from_ref(&out))?;
                Ok(out)
            },
        );
    }

    /// `replace`, refusing a result larger than the limit before building it.
    fn replace(value: &str, from: &str, to: &str) -> Result<String, Error> {
        let count = if from.is_empty() {
            value.chars().count() + 1
        } else {
            value.matches(from).count()
        };
        let len = (value.len() - count * from.len()).saturating_add(count.saturating_mul(to.len()));
        if len > MAX_OUTPUT {
            return Err(too_large());
        }
        Ok(value.replace(from, to))
    }

    /// `join`, refusing a result larger than the limit before building it.
    fn join(state: &mut State, args: Rest<Value>) -> Result<Value, Error> {
        let items = args.first().cloned().unwrap_or_default();
        let joiner = args
            .get(1)
            .and_then(|j| j.as_str().map(str::len))
            .unwrap_or(0);
        if let Ok(iter) = items.try_iter() {
            let mut total = 0usize;
            for item in iter {
                total += joiner + item.to_string().len();
                if total > MAX_OUTPUT + joiner {
                    return Err(too_large());
                }
            }
        }
        Value::from_function(minijinja::filters::join).call(state, &args)
    }

    pub fn install(env: &mut Environment<'static>) {
        use minijinja::{filters as f, functions, tests as t};
        macro_rules! filters {
            ($($name:literal => $fun:expr),* $(,)?) => {
                $( filter(env, $name, Value::from_function($fun)); )*
            };
        }
        filters! {
            "abs" => f::abs, "attr" => f::attr, "bool" => f::bool, "capitalize" => f::capitalize,
            "count" => f::length, "d" => f::default, "default" => f::default,
            "dictsort" => f::dictsort, "e" => f::escape, "escape" => f::escape,
            "first" => f::first, "float" => f::float, "int" => f::int, "items" => f::items,
            "join" => join, "last" => f::last, "length" => f::length, "lines" => f::lines,
            "list" => f::list, "lower" => f::lower, "map" => f::map, "max" => f::max,
            "min" => f::min, "reject" => f::reject, "rejectattr" => f::rejectattr,
            "replace" => replace, "reverse" => f::reverse, "safe" => f::safe,
            "select" => f::select, "selectattr" => f::selectattr, "sort" => f::sort,
            "split" => f::split, "string" => f::string, "sum" => f::sum, "title" => f::title,
            "trim" => f::trim, "unique" => f::unique, "upper" => f::upper,
        }
        env.add_test("defined", t::is_defined);
        env.add_test("undefined", t::is_undefined);
        env.add_test("none", t::is_none);
        env.add_test("boolean", t::is_boolean);
        env.add_test("true", t::is_true);
        env.add_test("false", t::is_false);
        env.add_test("number", t::is_number);
        env.add_test("integer", t::is_integer);
        env.add_test("float", t::is_float);
        env.add_test("string", t::is_string);
        env.add_test("sequence", t::is_sequence);
        env.add_test("mapping", t::is_mapping);
        env.add_test("iterable", t::is_iterable);
        env.add_test("odd", t::is_odd);
        env.add_test("even", t::is_even);
        env.add_test("divisibleby", t::is_divisibleby);
        env.add_test("startingwith", t::is_startingwith);
        env.add_test("endingwith", t::is_endingwith);
        env.add_test("lower", t::is_lower);
        env.add_test("upper", t::is_upper);
        env.add_test("in", t::is_in);
        for (name, test) in [
            ("eq", t::is_eq as fn(&Value, &Value) -> bool),
            ("==", t::is_eq),
            ("ne", t::is_ne),
            ("!=", t::is_ne),
            ("lt", t::is_lt),
            ("<", t::is_lt),
            ("le", t::is_le),
            ("<=", t::is_le),
            ("gt", t::is_gt),
            (">", t::is_gt),
            ("ge", t::is_ge),
            (">=", t::is_ge),
        ] {
            env.add_test(name, test);
        }
        env.add_function("range", functions::range);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    /// The one-pass `is_template` answers as the three `contains` it replaced.
    #[test]
    fn is_template_matches_its_oracle() {
        let oracle = |s: &str| s.contains("{{") || s.contains("{%") || s.contains("{#");
        let mut inputs = crate::test_corpus::strings();
        inputs.extend(crate::test_corpus::all_strings(
            &["{", "}", "%", "#", "a", "é"],
            5,
        ));
        for s in &inputs {
            assert_eq!(Templates::is_template(s), oracle(s), "{s:?}");
        }
    }

    #[test]
    fn keeps_the_final_newline_like_a_plain_string() {
        let t = Templates::new();
        let ctx = minijinja::context! { name => "dev" };
        assert_eq!(t.render("env: {{ name }}\n", &ctx).unwrap(), "env: dev\n");
        assert_eq!(t.render("env: dev\n", &ctx).unwrap(), "env: dev\n");
        assert_eq!(t.render("{{ name }}", &ctx).unwrap(), "dev");
        assert_eq!(
            t.render("a\n{% if true %}b{% endif %}\n\n", &ctx).unwrap(),
            "a\nb\n\n"
        );
    }

    #[test]
    fn renders_and_refuses_undefined() {
        let t = Templates::new();
        let ctx = context! { service => "aux", env => context!{ name => "dev" } };
        assert_eq!(
            t.render("{{ env.name }}/{{ service }}/db", &ctx).unwrap(),
            "dev/aux/db"
        );
        assert_eq!(t.render("plain", &ctx).unwrap(), "plain");
        let err = t.render("{{ env.acount }}", &ctx).unwrap_err();
        assert_eq!(
            err.message,
            "undefined value in template: `env.acount` is undefined"
        );
        assert_eq!(err.undefined.as_deref(), Some("env.acount"));
        // The first undefined name in the source, whatever the build (minijinja gives
        // the name in its error's detail in debug builds only), with a "did you mean".
        let err = t
            .render(
                "{% for q in [1] %}{{ q }}{{ servce }}{{ env.nme }}{% endfor %}",
                &ctx,
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "undefined value in template: `servce` is undefined (did you mean `service`?)"
        );
    }

    #[test]
    fn runaway_templates_stop() {
        let t = Templates::new();
        let err = t
            .render(
                "{% for i in range(100000) %}{{ i }}{% endfor %}",
                &context! {},
            )
            .unwrap_err();
        assert!(err.message.contains("too long"), "{err}");
    }

    #[test]
    fn cannot_include_files() {
        let t = Templates::new();
        let err = t
            .render("{% include '/etc/passwd' %}", &context! {})
            .unwrap_err();
        assert!(err.message.starts_with("template error"), "{err}");
    }
}
