//! The `[cluster]` section of an instance's local file: the etcd endpoints, this instance's name,
//! its lease and the key prefix. Present, it turns the cluster on (`cluster`); absent, op25b is
//! one process as ever.
use super::raw::RawCluster;
use super::validation_context::Ctx;

/// `lease_secs` when not set.
pub const DEFAULT_LEASE_SECS: u64 = 3;
/// `key_prefix` when not set.
pub const DEFAULT_KEY_PREFIX: &str = "/op25b/";

/// Validated `[cluster]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// etcd client URLs, `http://host:port` (at least one).
    pub etcd: Vec<String>,
    /// This instance's name, unique in the cluster: letters, digits, `.`, `_`, `-` (1 to 63).
    pub name: String,
    /// The lease's TTL in seconds (1 to 60): a dead instance's switches move after this.
    pub lease_secs: u64,
    /// Every key op25b writes starts with it (ends with `/`).
    pub key_prefix: String,
}

fn endpoint(e: &str) -> Result<String, String> {
    let rest = e.strip_prefix("http://").ok_or_else(|| {
        format!("{e:?}: expected an etcd client URL like \"http://10.0.0.5:2379\" (plain http)")
    })?;
    let ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(e.to_owned())
    } else {
        Err(format!("{e:?}: expected http://HOST:PORT"))
    }
}

/// Validates `[cluster]` (absent: `None`, no cluster).
pub(super) fn validate(cx: &mut Ctx, raw: Option<&RawCluster>) -> Option<ClusterSettings> {
    let r = raw?;
    let mut etcd = Vec::new();
    for (i, e) in r.etcd.iter().enumerate() {
        match endpoint(e.get_ref()) {
            Ok(url) => etcd.push(url),
            Err(reason) => cx.invalid(&e.span(), &format!("cluster.etcd[{i}]"), reason),
        }
    }
    if r.etcd.is_empty() {
        cx.invalid(
            &r.name.span(),
            "cluster.etcd",
            "empty: list at least one etcd URL",
        );
    }
    let name = r.name.get_ref().clone();
    let name_ok = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        cx.invalid(
            &r.name.span(),
            "cluster.name",
            "expected 1 to 63 letters, digits, '.', '_' or '-'",
        );
    }
    let lease_secs = match &r.lease_secs {
        Some(l) if (1..=60).contains(l.get_ref()) => *l.get_ref(),
        Some(l) => {
            cx.invalid(&l.span(), "cluster.lease_secs", "expected 1 to 60 seconds");
            DEFAULT_LEASE_SECS
        }
        None => DEFAULT_LEASE_SECS,
    };
    let key_prefix = match &r.key_prefix {
        Some(p) if p.get_ref().starts_with('/') && p.get_ref().ends_with('/') => {
            p.get_ref().clone()
        }
        Some(p) => {
            cx.invalid(
                &p.span(),
                "cluster.key_prefix",
                "expected a path starting and ending with '/', like \"/op25b/\"",
            );
            DEFAULT_KEY_PREFIX.to_owned()
        }
        None => DEFAULT_KEY_PREFIX.to_owned(),
    };
    Some(ClusterSettings {
        etcd,
        name,
        lease_secs,
        key_prefix,
    })
}

#[cfg(test)]
mod tests {
    use crate::policy::Config;

    const BASE: &str = "[policy]\nblocked_ports = [25]\nrelays = [\"192.0.2.25/32\"]\n";

    fn parse(cluster: &str) -> Result<Option<super::ClusterSettings>, Vec<String>> {
        match Config::parse(&format!("{BASE}{cluster}"), "policy.toml") {
            Ok(l) => Ok(l.config.cluster().cloned()),
            Err(e) => Err(e.0.iter().map(ToString::to_string).collect()),
        }
    }

    #[test]
    fn no_section_no_cluster_and_defaults_fill_in() {
        assert_eq!(parse(""), Ok(None));
        let c = parse("[cluster]\netcd = [\"http://127.0.0.1:2379\"]\nname = \"op25b-a\"\n")
            .expect("valid")
            .expect("a cluster");
        assert_eq!(c.etcd, vec!["http://127.0.0.1:2379".to_owned()]);
        assert_eq!(c.name, "op25b-a");
        assert_eq!(c.lease_secs, super::DEFAULT_LEASE_SECS);
        assert_eq!(c.key_prefix, super::DEFAULT_KEY_PREFIX);
    }

    #[test]
    fn each_bad_field_is_named_with_its_line() {
        let bad = [
            (
                "etcd = [\"https://x:2379\"]\nname = \"a\"\n",
                "cluster.etcd[0]",
            ),
            ("etcd = []\nname = \"a\"\n", "cluster.etcd"),
            (
                "etcd = [\"http://x:2379\"]\nname = \"a b\"\n",
                "cluster.name",
            ),
            ("etcd = [\"http://x:2379\"]\nname = \"\"\n", "cluster.name"),
            (
                "etcd = [\"http://x:2379\"]\nname = \"a\"\nlease_secs = 0\n",
                "cluster.lease_secs",
            ),
            (
                "etcd = [\"http://x:2379\"]\nname = \"a\"\nkey_prefix = \"op25b\"\n",
                "cluster.key_prefix",
            ),
        ];
        for (body, field) in bad {
            let errs = parse(&format!("[cluster]\n{body}")).expect_err(body);
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert!(errs[0].contains(field), "{field} in {errs:?}");
            assert!(errs[0].contains("policy.toml:"), "a location in {errs:?}");
        }
        assert!(
            parse("[cluster]\nname = \"a\"\n").is_err(),
            "etcd is required"
        );
    }
}
