//! OVSDB's JSON encoding of column values (RFC 7047 section 5.1), decoded into plain Rust
//! values. An atom is a JSON string, number or boolean, or `["uuid", "..."]`; a set is
//! `["set", [atom, ...]]`, except that a set of exactly one element may be written as that
//! atom alone; a map is `["map", [[key, value], ...]]`. An optional column (`min: 0, max: 1`)
//! is a set of zero or one element. Pure.
use serde_json::Value;
use std::collections::BTreeMap;

/// A value that does not have the shape its column should have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found}")]
pub struct DatumError {
    /// What the column should hold.
    pub expected: &'static str,
    /// What it held (JSON, cut short).
    pub found: String,
}

fn wrong(expected: &'static str, v: &Value) -> DatumError {
    let mut found = v.to_string();
    if found.len() > 80 {
        let mut end = 80;
        while !found.is_char_boundary(end) {
            end -= 1;
        }
        found.truncate(end);
        found.push_str("...");
    }
    DatumError { expected, found }
}

/// The elements of a set (a lone atom is a set of one).
fn elements(v: &Value) -> Result<&[Value], DatumError> {
    match v.as_array().map(Vec::as_slice) {
        Some([tag, items]) if tag == "set" => items
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| wrong("[\"set\", [...]]", v)),
        _ => Ok(std::slice::from_ref(v)),
    }
}

/// A string atom.
pub fn string(v: &Value) -> Result<String, DatumError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| wrong("a string", v))
}

/// A `["uuid", "..."]` atom.
pub fn uuid(v: &Value) -> Result<String, DatumError> {
    match v.as_array().map(Vec::as_slice) {
        Some([tag, id]) if tag == "uuid" => id
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| wrong("[\"uuid\", \"...\"]", v)),
        _ => Err(wrong("[\"uuid\", \"...\"]", v)),
    }
}

/// An integer atom.
pub fn integer(v: &Value) -> Result<i64, DatumError> {
    v.as_i64().ok_or_else(|| wrong("an integer", v))
}

/// A set of atoms, each read by `atom`.
pub fn set<T>(
    v: &Value,
    atom: impl Fn(&Value) -> Result<T, DatumError>,
) -> Result<Vec<T>, DatumError> {
    elements(v)?.iter().map(atom).collect()
}

/// An optional column: a set of zero or one atom.
pub fn optional<T>(
    v: &Value,
    atom: impl Fn(&Value) -> Result<T, DatumError>,
) -> Result<Option<T>, DatumError> {
    match elements(v)? {
        [] => Ok(None),
        [one] => atom(one).map(Some),
        _ => Err(wrong("at most one value", v)),
    }
}

/// A map of strings to strings.
pub fn string_map(v: &Value) -> Result<BTreeMap<String, String>, DatumError> {
    let pairs = match v.as_array().map(Vec::as_slice) {
        Some([tag, pairs]) if tag == "map" => pairs.as_array(),
        _ => None,
    }
    .ok_or_else(|| wrong("[\"map\", [[key, value], ...]]", v))?;
    pairs
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([k, val]) => Ok((string(k)?, string(val)?)),
            _ => Err(wrong("a [key, value] pair", pair)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_of_one_may_be_written_as_the_atom() {
        assert_eq!(
            set(&json!("OpenFlow13"), string),
            Ok(vec!["OpenFlow13".to_owned()])
        );
        assert_eq!(
            set(&json!(["set", ["OpenFlow10", "OpenFlow13"]]), string),
            Ok(vec!["OpenFlow10".to_owned(), "OpenFlow13".to_owned()])
        );
        assert_eq!(set(&json!(["set", []]), string), Ok(vec![]));
        assert_eq!(
            set(&json!(["uuid", "a-b"]), uuid),
            Ok(vec!["a-b".to_owned()]),
            "a lone uuid is a set of one, not a two-element array"
        );
        assert_eq!(
            set(&json!(["set", [["uuid", "a"], ["uuid", "b"]]]), uuid),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn optional_columns_are_sets_of_zero_or_one() {
        assert_eq!(optional(&json!(["set", []]), integer), Ok(None));
        assert_eq!(optional(&json!(1000), integer), Ok(Some(1000)));
        assert_eq!(optional(&json!(["set", [5000]]), integer), Ok(Some(5000)));
        assert_eq!(
            optional(&json!("secure"), string),
            Ok(Some("secure".to_owned()))
        );
        assert!(optional(&json!(["set", [1, 2]]), integer).is_err());
    }

    #[test]
    fn maps_are_tagged_pairs() {
        assert_eq!(string_map(&json!(["map", []])), Ok(BTreeMap::new()));
        assert_eq!(
            string_map(&json!(["map", [["datapath-id", "0000000000000001"]]])),
            Ok(BTreeMap::from([(
                "datapath-id".to_owned(),
                "0000000000000001".to_owned()
            )]))
        );
        assert!(string_map(&json!({"datapath-id": "1"})).is_err());
        assert!(string_map(&json!(["map", [["k"]]])).is_err());
    }

    #[test]
    fn wrong_shapes_say_what_was_expected_and_found() {
        let e = string(&json!(42)).expect_err("not a string");
        assert_eq!(e.to_string(), "expected a string, found 42");
        assert!(uuid(&json!(["named-uuid", "x"])).is_err());
        assert!(set(&json!(["set", "x"]), string).is_err());
        let long = json!("x".repeat(200));
        assert!(integer(&long).expect_err("long").found.ends_with("..."));
    }
}
