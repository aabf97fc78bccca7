//! Bit flags as names: the set bits of a flags word named from a table, unknown bits as hex.

/// Names of the set bits of `value` from `names`, joined by `sep`; bits without a name as hex.
pub fn flag_names(value: u32, names: &[(u32, &str)], sep: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = value;
    for (bit, name) in names {
        if value & bit != 0 {
            parts.push((*name).to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    parts.join(sep)
}

pub(super) fn or_none(s: String) -> String {
    if s.is_empty() {
        "0".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_keeps_unknown_bits() {
        assert_eq!(flag_names(0b101, &[(1, "A"), (2, "B")], ","), "A,0x4");
        assert_eq!(flag_names(0, &[(1, "A")], ","), "");
    }
}
