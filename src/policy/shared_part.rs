//! The shared part of a policy file: what a cluster keeps once in etcd for every instance,
//! as opposed to the instance-local sections each instance keeps in its own file.
//!
//! Shared: `[policy]`, `[defaults]`, `[[switch]]`, `[reporting]` (what the flows and reports come
//! from). Instance-local ([`INSTANCE_SECTIONS`]): `[controller]`, `[api]`, `[cluster]`, `[ovsdb]`
//! (listen addresses, TLS files, the API, etcd endpoints, this host's databases).
//!
//! A shared text is validated by the same parser as any file ([`Config::parse`]), so a mistake
//! keeps its `origin:line:column` in the text as pushed; a text that also holds an
//! instance-local section is refused at that section's header. An instance then combines its
//! local file with the shared policy by [`Config::with_policy_of`]: validation has no rule that
//! spans the two parts, so the combination of two valid parts is valid.
use super::error::{PolicyError, PolicyErrorKind, PolicyErrors};
use super::location::Location;
use super::{Config, Loaded};

/// The sections that stay in each instance's local file and are never shared.
pub const INSTANCE_SECTIONS: [&str; 4] = ["controller", "api", "cluster", "ovsdb"];

/// Parses and validates `text` as a shared policy: everything [`Config::parse`] checks, and no
/// instance-local section (each is an error at its header).
pub fn parse_shared(text: &str, origin: &str) -> Result<Loaded, PolicyErrors> {
    let loaded = Config::parse(text, origin)?;
    // Valid TOML by now: the top-level keys tell which sections are present.
    let top: toml::Table = toml::from_str(text).map_err(|e| {
        PolicyErrors(vec![PolicyError {
            location: Location::at(origin, text, 0),
            kind: PolicyErrorKind::Syntax(e.message().trim().to_owned()),
        }])
    })?;
    let errors: Vec<PolicyError> = INSTANCE_SECTIONS
        .iter()
        .filter(|s| top.contains_key(**s))
        .map(|s| PolicyError {
            location: Location::at(origin, text, header_offset(text, s)),
            kind: PolicyErrorKind::Invalid {
                field: format!("[{s}]"),
                reason: "instance-local (listen addresses, TLS files, API, etcd endpoints): it stays in each instance's own file and is not shared; remove it from the shared policy".to_owned(),
            },
        })
        .collect();
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(PolicyErrors(errors))
    }
}

/// The byte offset of the line holding `[section]` or `[section.…]` (or a dotted key
/// `section.… =`), 0 when not found.
fn header_offset(text: &str, section: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let after_bracket = t.strip_prefix('[').map(str::trim_start);
        let named = |rest: &str| {
            rest.strip_prefix(section)
                .is_some_and(|r| r.trim_start().starts_with([']', '.', '=']))
        };
        if after_bracket.is_some_and(named) || named(t) {
            return offset + indent;
        }
        offset += line.len();
    }
    0
}

impl Config {
    /// This instance's settings (`[controller]`, `[api]`, `[cluster]`, `[ovsdb]`) with the policy
    /// (`[policy]`, `[defaults]`, `[[switch]]`, `[reporting]`) of `shared`.
    #[must_use]
    pub fn with_policy_of(&self, shared: &Config) -> Config {
        Config {
            controller: self.controller.clone(),
            api: self.api.clone(),
            cluster: self.cluster.clone(),
            ovsdb: self.ovsdb.clone(),
            policy: shared.policy.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = "[policy]\nrelays = [\"192.0.2.25/32\"]\n\n[reporting]\nenabled = false\n";

    #[test]
    fn a_shared_text_parses_and_an_instance_section_is_refused_at_its_header() {
        assert!(parse_shared(SHARED, "p.toml").is_ok());
        let text = format!("{SHARED}\n  [controller]\nlisten = \"127.0.0.1:6653\"\n[api.x]\n");
        // [api.x] is not a valid [api] key: Config::parse refuses it first, at its line.
        assert!(parse_shared(&text, "p.toml").is_err());
        let text = format!("{SHARED}\n  [controller]\nlisten = \"127.0.0.1:6653\"\n[cluster]\netcd = [\"http://127.0.0.1:2379\"]\nname = \"a\"\n");
        let errs = parse_shared(&text, "p.toml").expect_err("instance sections");
        let shown: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(
            shown[0].starts_with("p.toml:7:3: [controller]"),
            "{shown:?}"
        );
        assert!(shown[1].starts_with("p.toml:9:1: [cluster]"), "{shown:?}");
    }

    #[test]
    fn the_combination_keeps_local_settings_and_takes_the_shared_policy() {
        let local = Config::parse(
            "[controller]\nlisten = \"127.0.0.1:7000\"\n[policy]\nrelays = [\"10.0.0.1\"]\n",
            "local.toml",
        )
        .expect("local")
        .config;
        let shared = parse_shared(SHARED, "etcd").expect("shared").config;
        let both = local.with_policy_of(&shared);
        assert_eq!(both.controller(), local.controller());
        assert_eq!(both.policy(), shared.policy());
        assert_ne!(both.policy(), local.policy());
    }
}
