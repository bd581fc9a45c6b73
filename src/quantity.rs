//! Kubernetes resource quantities (`250m`, `0.5`, `128Mi`, `1e3`): parsing with the
//! grammar of `k8s.io/apimachinery/pkg/api/resource.Quantity` into an exact value, so
//! that requests and limits compare exactly (`1Gi` > `1G`, `500m` == `0.5`).
//!
//! Like Kubernetes, precision below one nano-unit is rounded up (away from zero), so
//! `0.1n` is `1n`. Unlike Kubernetes, which silently caps binary quantities at 2^63-1,
//! magnitudes above 2^63-1 (about 8Ei) are rejected.

use std::fmt;

/// An exact quantity, stored as a whole number of nano-units (10^-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    nanos: i128,
}

/// The largest magnitude accepted, in nano-units: (2^63 - 1) units.
const MAX_NANOS: i128 = i64::MAX as i128 * 1_000_000_000;

const GENERIC: &str = "write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi";

#[derive(Debug, PartialEq, Eq)]
enum Error {
    Syntax,
    TooLarge,
}

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// Parses a Kubernetes quantity: an optional sign, digits with an optional decimal
    /// point, and a binary (`Ki`..`Ei`), decimal (`n u m k M G T P E`) or exponent
    /// (`e3`, `E-2`) suffix.
    pub fn parse(s: &str) -> Result<Quantity, String> {
        match parse_nanos(s) {
            Ok(nanos) => Ok(Quantity { nanos }),
            Err(Error::TooLarge) => Err(format!(
                "{s:?} is too large for a Kubernetes quantity: use at most 8Ei (2^63-1)"
            )),
            Err(Error::Syntax) => Err(syntax_error(s)),
        }
    }

    /// The exact value in nano-units (10^-9 of the base unit).
    pub fn as_nanos(self) -> i128 {
        self.nanos
    }

    /// True when the value is below zero.
    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// True when the value is zero.
    pub fn is_zero(self) -> bool {
        self.nanos == 0
    }
}

/// Shows the exact value in base units with up to nine decimals, e.g. `0.5` or `1073741824`.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let (whole, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            let frac = format!("{frac:09}");
            write!(f, "{sign}{whole}.{}", frac.trim_end_matches('0'))
        }
    }
}

/// Parses a quantity that must not be negative, as for resource requests and limits.
pub fn parse_non_negative(s: &str) -> Result<Quantity, String> {
    let q = Quantity::parse(s)?;
    if q.is_negative() {
        return Err(format!(
            "{s:?} is a negative quantity: resources must be zero or more, like 250m or 128Mi"
        ));
    }
    Ok(q)
}

/// A CPU or memory quantity written without a unit that is surely a slip (the
/// problem and the likely meaning), or `None`: memory below 1Mi written as a bare
/// number (`memory = "256"` is 256 bytes, which no container runtime starts a
/// container with: `256Mi` was meant), CPU above 64 written as a bare number (`cpu =
/// "500"` is 500 CPUs, more than nodes have: `500m` was meant). `resource` is `cpu`
/// or `memory`.
pub fn unit_slip(resource: &str, s: &str) -> Option<(String, String)> {
    const MI: Quantity = Quantity {
        nanos: 1_048_576 * 1_000_000_000,
    };
    const KI64: Quantity = Quantity {
        nanos: 65_536 * 1_000_000_000,
    };
    const CPUS: Quantity = Quantity {
        nanos: 64 * 1_000_000_000,
    };
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !plain {
        return None;
    }
    let q = Quantity::parse(s).ok()?;
    match resource {
        // Up to 64Ki as mebibytes (`256Mi`), above as kibibytes (`500000Ki`, 488Mi):
        // what is likelier a forgotten unit.
        "memory" if !q.is_zero() && q < MI => Some((
            format!("`{s}` is {s} bytes of memory (a quantity without a unit counts bytes)"),
            if q <= KI64 {
                format!("{s}Mi")
            } else {
                format!("{s}Ki")
            },
        )),
        "cpu" if q > CPUS => Some((
            format!("`{s}` is {s} CPUs (a quantity without a unit counts whole CPUs), more than nodes have"),
            format!("{s}m"),
        )),
        _ => None,
    }
}

/// (decimal exponent, binary exponent) of a suffix, or None when it is not one.
fn suffix_exponents(suffix: &str) -> Option<(i64, u32)> {
    let known = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let rest = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let (negative, digits) = match rest.as_bytes().first()? {
                b'-' => (true, &rest[1..]),
                b'+' => (false, &rest[1..]),
                _ => (false, rest),
            };
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            // Any exponent beyond a few dozen either overflows or rounds to 1n; clamp
            // so the arithmetic below stays small.
            let digits = digits.trim_start_matches('0');
            let magnitude: i64 = if digits.len() > 6 {
                1_000_000
            } else {
                digits.parse().unwrap_or(0)
            };
            (if negative { -magnitude } else { magnitude }, 0)
        }
    };
    Some(known)
}

/// A quantity's parts: sign, the digits before and after the point, and the
/// exponents of ten and two of its suffix.
struct Parts<'a> {
    negative: bool,
    int_digits: &'a str,
    frac_digits: &'a str,
    dec_exp: i64,
    bin_exp: u32,
}

fn parse_nanos(s: &str) -> Result<i128, Error> {
    let parts = parts(s)?;
    match whole_nanos(&parts) {
        Some(nanos) => nanos,
        None => nanos_by_digits(&parts),
    }
}

fn parts(s: &str) -> Result<Parts<'_>, Error> {
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[frac_start..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(Error::Syntax);
    }
    let (dec_exp, bin_exp) = suffix_exponents(&s[i..]).ok_or(Error::Syntax)?;
    Ok(Parts {
        negative,
        int_digits,
        frac_digits,
        dec_exp,
        bin_exp,
    })
}

/// The usual quantity (`500m`, `128Mi`, `2`): a whole number of at most 18 digits
/// and a suffix that scales it up. Exact in `i128`, and an overflow of it is far
/// above `MAX_NANOS`: the same value, or the same error, as [`nanos_by_digits`],
/// without its digit vector (which `Mi` doubles twenty times). `None` for the others.
fn whole_nanos(p: &Parts<'_>) -> Option<Result<i128, Error>> {
    let scale = p.dec_exp + 9;
    if !p.frac_digits.is_empty() || p.int_digits.len() > 18 || !(0..=30).contains(&scale) {
        return None;
    }
    let whole: i128 = (p.int_digits.bytes()).fold(0, |m, c| m * 10 + i128::from(c - b'0'));
    let magnitude = whole
        .checked_mul(1i128 << p.bin_exp)
        .and_then(|v| v.checked_mul(10i128.pow(scale as u32)))
        .filter(|&v| v <= MAX_NANOS)
        .ok_or(Error::TooLarge);
    Some(magnitude.map(|m| if p.negative { -m } else { m }))
}

/// Any quantity, digit by digit: the mantissa's decimal digits, doubled `bin_exp`
/// times, then scaled by ten.
fn nanos_by_digits(p: &Parts<'_>) -> Result<i128, Error> {
    let Parts {
        negative,
        int_digits,
        frac_digits,
        dec_exp,
        bin_exp,
    } = *p;

    // The value is mantissa * 2^bin_exp * 10^scale nano-units.
    let mut mantissa: Vec<u8> = int_digits
        .bytes()
        .chain(frac_digits.bytes())
        .map(|c| c - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    if mantissa.is_empty() {
        return Ok(0);
    }
    for _ in 0..bin_exp {
        double(&mut mantissa);
    }
    let scale = dec_exp + 9 - frac_digits.len() as i64;

    let mut magnitude: i128 = 0;
    let push = |m: i128, d: u8| -> Result<i128, Error> {
        let v = m * 10 + i128::from(d);
        if v > MAX_NANOS {
            Err(Error::TooLarge)
        } else {
            Ok(v)
        }
    };
    if scale >= 0 {
        if mantissa.len() as i64 + scale > 30 {
            return Err(Error::TooLarge);
        }
        for &d in &mantissa {
            magnitude = push(magnitude, d)?;
        }
        for _ in 0..scale {
            magnitude = push(magnitude, 0)?;
        }
    } else {
        let drop = usize::try_from(-scale).unwrap_or(usize::MAX);
        let keep = mantissa.len().saturating_sub(drop);
        if keep > 30 {
            return Err(Error::TooLarge);
        }
        for &d in &mantissa[..keep] {
            magnitude = push(magnitude, d)?;
        }
        // Round a non-zero remainder up to the next nano-unit, like Kubernetes.
        if mantissa[keep..].iter().any(|&d| d != 0) {
            magnitude += 1;
            if magnitude > MAX_NANOS {
                return Err(Error::TooLarge);
            }
        }
    }
    Ok(if negative { -magnitude } else { magnitude })
}

/// Multiplies a big-endian decimal digit string by two.
fn double(digits: &mut Vec<u8>) {
    let mut carry = 0;
    for d in digits.iter_mut().rev() {
        let v = *d * 2 + carry;
        *d = v % 10;
        carry = v / 10;
    }
    if carry > 0 {
        digits.insert(0, carry);
    }
}

/// The message for a string that does not follow the grammar, with a hint for the
/// usual mistakes (`512MB`, `1gi`, `1K`, `1 Gi`).
fn syntax_error(s: &str) -> String {
    let prefix = format!("{s:?} is not a Kubernetes quantity");
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() != s.len() && !compact.is_empty() && parse_nanos(&compact).is_ok() {
        return format!("{prefix}: remove the whitespace, like {compact}");
    }
    let number_end = s
        .bytes()
        .enumerate()
        .position(|(i, c)| {
            !(c.is_ascii_digit() || c == b'.' || (i == 0 && matches!(c, b'+' | b'-')))
        })
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    if parse_nanos(number).is_ok() && !suffix.is_empty() {
        let lower = suffix.to_ascii_lowercase();
        let stem = lower.strip_suffix('b').unwrap_or(&lower);
        let binary_intent = stem.ends_with('i');
        let stem = stem.strip_suffix('i').unwrap_or(stem);
        let units = match stem {
            "" if lower == "b" => {
                return format!("{prefix}: a plain number counts bytes, write {number}");
            }
            "k" => Some(("k", "Ki")),
            "m" => Some(("M", "Mi")),
            "g" => Some(("G", "Gi")),
            "t" => Some(("T", "Ti")),
            "p" => Some(("P", "Pi")),
            "e" => Some(("E", "Ei")),
            _ => None,
        };
        if let Some((decimal, binary)) = units {
            return if binary_intent {
                format!(
                    "{prefix}: suffixes are case-sensitive and have no B, write {number}{binary}"
                )
            } else {
                format!("{prefix}: write {number}{decimal} for powers of 1000 or {number}{binary} for powers of 1024")
            };
        }
    }
    format!("{prefix}: {GENERIC}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_slips() {
        let meant = |r, s| unit_slip(r, s).map(|(_, m)| m);
        assert_eq!(meant("memory", "256").as_deref(), Some("256Mi"));
        assert_eq!(meant("memory", "512.5").as_deref(), Some("512.5Mi"));
        assert_eq!(meant("memory", "1048576"), None);
        assert_eq!(meant("memory", "65536").as_deref(), Some("65536Mi"));
        assert_eq!(meant("memory", "500000").as_deref(), Some("500000Ki"));
        assert_eq!(meant("memory", "0"), None);
        assert_eq!(meant("memory", "256Mi"), None);
        assert_eq!(meant("memory", "1e3"), None);
        assert_eq!(meant("cpu", "500").as_deref(), Some("500m"));
        assert_eq!(meant("cpu", "64"), None);
        assert_eq!(meant("cpu", "2"), None);
        assert_eq!(meant("cpu", "500m"), None);
        assert_eq!(meant("storage", "5"), None);
    }

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn nanos(s: &str) -> i128 {
        q(s).as_nanos()
    }

    /// The quick way for whole numbers gives what the digit by digit way gives, value
    /// or error, for every suffix and sign and at the edges of its range.
    #[test]
    fn whole_numbers_quickly_as_digit_by_digit() {
        let suffixes = [
            "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
            "e0", "e3", "e-3", "e-9", "e-10", "e18", "e21", "E6", "e30",
        ];
        let numbers = [
            "0",
            "00",
            "1",
            "7",
            "10",
            "128",
            "1000",
            "0500",
            "9223372036",
            "9223372037",
            "9223372036854775807",
            "999999999999999999",
            "000000000000000001",
            "1000000000000000000",
        ];
        let mut quick = 0;
        for n in numbers {
            for suffix in suffixes {
                for sign in ["", "+", "-"] {
                    let s = format!("{sign}{n}{suffix}");
                    let p = parts(&s).unwrap();
                    if let Some(fast) = whole_nanos(&p) {
                        quick += 1;
                        assert_eq!(fast, nanos_by_digits(&p), "{s}");
                    }
                }
            }
        }
        assert!(quick > 500, "the quick way ran {quick} times");
    }

    #[test]
    fn values() {
        let cases: &[(&str, i128)] = &[
            ("0", 0),
            ("-0", 0),
            ("1", 1_000_000_000),
            ("+1", 1_000_000_000),
            ("-1", -1_000_000_000),
            ("250m", 250_000_000),
            ("0.5", 500_000_000),
            (".5", 500_000_000),
            ("1.", 1_000_000_000),
            ("1n", 1),
            ("1u", 1_000),
            ("1k", 1_000_000_000_000),
            ("1M", 1_000_000_000_000_000),
            ("1Ki", 1024 * 1_000_000_000),
            ("1Mi", 1_048_576 * 1_000_000_000),
            ("1.5Gi", 1_610_612_736 * 1_000_000_000),
            ("1e3", 1_000_000_000_000),
            ("1E3", 1_000_000_000_000),
            ("1e+3", 1_000_000_000_000),
            ("1e-3", 1_000_000),
            ("12e-1", 1_200_000_000),
            ("1E", 1_000_000_000_000_000_000_000_000_000),
            ("0.1n", 1),
            ("-0.1n", -1),
            ("1e-30", 1),
            ("0e999999999999999999999", 0),
            ("0.000000001", 1),
            ("000123.4500m", 123_450_000),
            ("0.5Ki", 512 * 1_000_000_000),
            ("7Ei", 7 * (1i128 << 60) * 1_000_000_000),
        ];
        for &(s, want) in cases {
            assert_eq!(nanos(s), want, "{s}");
        }
    }

    #[test]
    fn exact_comparisons() {
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1024Mi"), q("1Gi"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1e9"), q("1G"));
        assert!(q("999m") < q("1"));
        assert!(q("-1") < q("0"));
        assert!(q("128974848") < q("129e6"));
        assert_eq!(q("123Mi"), q("128974848"));
        assert_eq!(q("0.1n"), q("1n"));
    }

    #[test]
    fn display() {
        assert_eq!(q("500m").to_string(), "0.5");
        assert_eq!(q("1Gi").to_string(), "1073741824");
        assert_eq!(q("-1.25").to_string(), "-1.25");
        assert_eq!(q("1n").to_string(), "0.000000001");
        assert_eq!(Quantity::ZERO.to_string(), "0");
    }

    #[test]
    fn rejects_bad_syntax() {
        let msg = |s: &str| Quantity::parse(s).expect_err(s);
        assert_eq!(
            msg("100mm"),
            r#""100mm" is not a Kubernetes quantity: write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi"#
        );
        assert_eq!(
            msg("1.5.5"),
            r#""1.5.5" is not a Kubernetes quantity: write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi"#
        );
        assert_eq!(
            msg("Mi"),
            r#""Mi" is not a Kubernetes quantity: write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi"#
        );
        assert_eq!(
            msg("-"),
            r#""-" is not a Kubernetes quantity: write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi"#
        );
        assert_eq!(
            msg(""),
            r#""" is not a Kubernetes quantity: write a number with an optional suffix, like 250m, 0.5, 128Mi or 1Gi"#
        );
        assert_eq!(
            msg("1 Gi"),
            r#""1 Gi" is not a Kubernetes quantity: remove the whitespace, like 1Gi"#
        );
        assert_eq!(
            msg("512MB"),
            r#""512MB" is not a Kubernetes quantity: write 512M for powers of 1000 or 512Mi for powers of 1024"#
        );
        assert_eq!(
            msg("1K"),
            r#""1K" is not a Kubernetes quantity: write 1k for powers of 1000 or 1Ki for powers of 1024"#
        );
        assert_eq!(
            msg("1gi"),
            r#""1gi" is not a Kubernetes quantity: suffixes are case-sensitive and have no B, write 1Gi"#
        );
        assert_eq!(
            msg("2GiB"),
            r#""2GiB" is not a Kubernetes quantity: suffixes are case-sensitive and have no B, write 2Gi"#
        );
        assert_eq!(
            msg("100B"),
            r#""100B" is not a Kubernetes quantity: a plain number counts bytes, write 100"#
        );
        for bad in [
            ".", "+", "1e", "1E+", "1e1.5", "1ee3", "1Ki3", "1i", "Ki", "e3", "1 ", " 1", "1,5",
            "0x10", "1mi", "--1", "+-1", "1.5.", "1Gi ", "١", "1e3m", "1m3", "inf", "NaN",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn rejects_too_large() {
        assert_eq!(
            Quantity::parse("16Ei").unwrap_err(),
            r#""16Ei" is too large for a Kubernetes quantity: use at most 8Ei (2^63-1)"#
        );
        for bad in ["1e40", "10E", "-9223372036854775808", "1e999999999999"] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(nanos("9223372036854775807"), MAX_NANOS);
        assert_eq!(nanos("-9223372036854775807"), -MAX_NANOS);
    }

    #[test]
    fn non_negative() {
        assert_eq!(parse_non_negative("0").unwrap(), Quantity::ZERO);
        assert_eq!(parse_non_negative("-0").unwrap(), Quantity::ZERO);
        assert_eq!(parse_non_negative("128Mi").unwrap(), q("128Mi"));
        assert_eq!(
            parse_non_negative("-1Gi").unwrap_err(),
            r#""-1Gi" is a negative quantity: resources must be zero or more, like 250m or 128Mi"#
        );
        assert_eq!(
            parse_non_negative("-1n").unwrap_err(),
            r#""-1n" is a negative quantity: resources must be zero or more, like 250m or 128Mi"#
        );
        assert!(parse_non_negative("1 Gi")
            .unwrap_err()
            .contains("remove the whitespace"));
    }
}
