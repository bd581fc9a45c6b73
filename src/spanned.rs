//! `Spanned<T>`: a value read from TOML together with the byte range it came from.
//!
//! kgen keeps the span of every input value through merging and templating so that
//! an error found late (a bad quantity, an HPA with min > max) still points at the
//! line the user wrote. This wraps `serde_spanned::Spanned` so that it can also
//! derive a JSON Schema (the schema of a `Spanned<T>` is the schema of `T`).

use std::borrow::Cow;
use std::ops::Range;

use serde::{Deserialize, Deserializer};

/// Equality, ordering and hashing look at the value only, so `Spanned<String>` works
/// as a map key.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: PartialOrd> PartialOrd for Spanned<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Ord> Ord for Spanned<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Spanned { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::borrow::Borrow<str> for Spanned<T>
where
    T: std::borrow::Borrow<str>,
{
    fn borrow(&self) -> &str {
        self.value.borrow()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner = serde_spanned::Spanned::<T>::deserialize(deserializer)?;
        let span = inner.span();
        Ok(Spanned {
            value: inner.into_inner(),
            span,
        })
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}
