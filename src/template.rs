//! Templated strings: minijinja expressions such as `{{ env.name }}/{{ service }}/db`.
//!
//! The environment is locked down: undefined variables are errors (strict), there is
//! no loader (templates cannot include or read files), no access to the process
//! environment or network, a fuel limit stops runaway loops, and the output size is
//! capped. Strings without `{{`, `{%` or `{#` are returned as they are, without
//! touching minijinja.

use minijinja::{Environment, UndefinedBehavior, Value};

/// Instructions one template may execute.
pub const FUEL: u64 = 20_000;
/// Largest output of one template, in bytes.
pub const MAX_OUTPUT: usize = 64 * 1024;

pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        // Built-in filters and tests are pure functions over values. There is no
        // loader, so `include`/`import`/`extends` fail, and nothing here reads the
        // process environment or the network.
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(32);
        Templates { env }
    }

    /// True when `s` contains template syntax.
    pub fn is_template(s: &str) -> bool {
        s.contains("{{") || s.contains("{%") || s.contains("{#")
    }

    /// Renders `source` with `ctx`. The error is one sentence for a diagnostic.
    pub fn render(&self, source: &str, ctx: &Value) -> Result<String, String> {
        if !Self::is_template(source) {
            return Ok(source.to_string());
        }
        let out = self.env.render_str(source, ctx).map_err(|e| describe(&e))?;
        if out.len() > MAX_OUTPUT {
            return Err(format!(
                "the template expands to {} bytes, more than the limit of {MAX_OUTPUT}",
                out.len()
            ));
        }
        Ok(out)
    }
}

fn describe(e: &minijinja::Error) -> String {
    use minijinja::ErrorKind;
    let detail = e.detail().map(str::to_string);
    match e.kind() {
        ErrorKind::UndefinedError => match detail {
            Some(d) => format!("undefined value in template: {d}"),
            None => "undefined variable in template".to_string(),
        },
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

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

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
        assert!(err.starts_with("undefined value in template"), "{err}");
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
        assert!(err.contains("too long"), "{err}");
    }

    #[test]
    fn cannot_include_files() {
        let t = Templates::new();
        let err = t
            .render("{% include '/etc/passwd' %}", &context! {})
            .unwrap_err();
        assert!(err.starts_with("template error"), "{err}");
    }
}
