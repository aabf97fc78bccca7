//! A strict validator for the Prometheus text format 0.0.4, for tests: every line must be a
//! well-formed `# HELP`, `# TYPE` or sample line; every sample must belong to the family of
//! the last `# TYPE` (counter `x_total`; histogram `x_bucket{le=..}`, `x_sum`, `x_count`); no
//! family or series twice; histogram buckets cumulative and ending in `+Inf` equal to `_count`.

use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub kind: String,
    pub help: String,
    pub samples: Vec<Sample>,
}

pub type Families = BTreeMap<String, Family>;

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    let ok_rest = |c: char| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':');
    matches!(chars.next(), Some(c) if ok_first(c)) && chars.all(ok_rest)
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) && !s.is_empty() => {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("expected {")?;
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !is_name(name, false) {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("unterminated label value".to_owned()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, '\n')) => return Err("newline in label value".to_owned()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err("expected , or } after a label".to_owned());
        }
    }
}

fn belongs(kind: &str, family: &str, name: &str) -> bool {
    match kind {
        "histogram" => [
            format!("{family}_bucket"),
            format!("{family}_sum"),
            format!("{family}_count"),
        ]
        .iter()
        .any(|n| n == name),
        "summary" => {
            name == family || name == format!("{family}_sum") || name == format!("{family}_count")
        }
        _ => name == family,
    }
}

/// One histogram series: its `(le, count)` buckets in order, and its `_count`.
type HistogramSeries = (Vec<(f64, f64)>, Option<f64>);

fn check_histograms(families: &Families) -> Result<(), String> {
    for (name, f) in families.iter().filter(|(_, f)| f.kind == "histogram") {
        let mut series: BTreeMap<Vec<(String, String)>, HistogramSeries> = BTreeMap::new();
        for s in &f.samples {
            let mut key: Vec<(String, String)> = s
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            key.sort();
            let entry = series.entry(key).or_default();
            if s.name.ends_with("_bucket") {
                let le = s
                    .labels
                    .get("le")
                    .ok_or(format!("{name}: bucket without le"))?;
                let le = parse_value(le).ok_or(format!("{name}: bad le {le}"))?;
                entry.0.push((le, s.value));
            } else if s.name.ends_with("_count") {
                entry.1 = Some(s.value);
            }
        }
        for (labels, (buckets, count)) in series {
            let mut last = (f64::NEG_INFINITY, 0.0);
            for &(le, v) in &buckets {
                if le <= last.0 || v < last.1 {
                    return Err(format!("{name}{labels:?}: buckets not increasing"));
                }
                last = (le, v);
            }
            if last.0 != f64::INFINITY || Some(last.1) != count {
                return Err(format!("{name}{labels:?}: +Inf bucket missing or != count"));
            }
        }
    }
    Ok(())
}

/// Validates `text`; returns the families by name.
pub fn parse(text: &str) -> Result<Families, String> {
    if !text.ends_with('\n') {
        return Err("exposition does not end with a newline".to_owned());
    }
    let mut families: Families = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut helps: BTreeMap<String, String> = BTreeMap::new();
    let mut series_seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            if !is_name(name, true) || helps.insert(name.to_owned(), help.to_owned()).is_some() {
                return Err(at("bad or repeated HELP".to_owned()));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| at("TYPE without type".into()))?;
            if !is_name(name, true)
                || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
            {
                return Err(at("bad TYPE".to_owned()));
            }
            if families.contains_key(name) {
                return Err(at("family declared twice".to_owned()));
            }
            families.insert(
                name.to_owned(),
                Family {
                    kind: kind.to_owned(),
                    help: helps.get(name).cloned().unwrap_or_default(),
                    samples: Vec::new(),
                },
            );
            current = Some(name.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            return Err(at("empty line".to_owned()));
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !is_name(name, true) {
            return Err(at(format!("bad metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| at("no space before value".into()))?;
        let mut parts = rest.split(' ');
        let value = parts
            .next()
            .and_then(parse_value)
            .ok_or_else(|| at("bad value".into()))?;
        if let Some(ts) = parts.next() {
            ts.parse::<i64>().map_err(|_| at("bad timestamp".into()))?;
        }
        if parts.next().is_some() {
            return Err(at("trailing fields".to_owned()));
        }
        let family = current
            .clone()
            .ok_or_else(|| at("sample before any TYPE".into()))?;
        let f = families
            .get_mut(&family)
            .ok_or_else(|| at("no family".into()))?;
        if !belongs(&f.kind, &family, name) {
            return Err(at(format!(
                "sample does not belong to {} family {family}",
                f.kind
            )));
        }
        if !series_seen.insert(format!("{name}{labels:?}")) {
            return Err(at("series repeated".to_owned()));
        }
        f.samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    check_histograms(&families)?;
    Ok(families)
}

/// The value of the one sample of `family` whose labels include all of `labels`.
pub fn value(families: &Families, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let f = families.get(family)?;
    let mut hits = f.samples.iter().filter(|s| {
        s.name == family
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    });
    let first = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    Some(first.value)
}

#[cfg(test)]
mod self_tests {
    use super::parse;

    #[test]
    fn the_validator_rejects_what_a_real_parser_rejects() {
        let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n";
        assert!(parse(good).is_ok());
        for bad in [
            "a_total 3\n",                                                    // no TYPE
            "# TYPE a_total counter\na_total{x=1} 3\n",                      // unquoted
            "# TYPE a_total counter\na_total 3",                             // no newline
            "# TYPE a_total counter\nb_total 3\n",                           // other family
            "# TYPE a_total counter\na_total three\n",                       // value
            "# TYPE a_total counter\na_total 1\na_total 2\n",                // repeated
            "# TYPE a_total counter\n# TYPE a_total counter\n",              // twice
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n",
            "# TYPE g gauge\ng{x=\"a\\q\"} 1\n",                            // bad escape
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
