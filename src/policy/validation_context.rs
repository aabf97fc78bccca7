//! What validation carries from check to check: the file's text, every error and warning found
//! so far with its location, and the checks several sections share (prefix lists).
use super::error::{PolicyError, PolicyErrorKind, PolicyWarning};
use super::location::LineIndex;
use super::{IpPrefix, Location};
use std::collections::BTreeSet;
use std::ops::Range;
use toml::Spanned;

pub(super) struct Ctx<'a> {
    /// Built once: a file may hold tens of thousands of mistakes, each needing a location.
    pub(super) index: LineIndex<'a>,
    pub(super) errors: Vec<PolicyError>,
    pub(super) warnings: Vec<PolicyWarning>,
}

impl Ctx<'_> {
    pub(super) fn loc(&self, span: &Range<usize>) -> Location {
        self.index.of_span(span)
    }
    pub(super) fn error(&mut self, span: &Range<usize>, kind: PolicyErrorKind) {
        let location = self.loc(span);
        self.errors.push(PolicyError { location, kind });
    }
    pub(super) fn invalid(&mut self, span: &Range<usize>, field: &str, reason: impl Into<String>) {
        self.error(
            span,
            PolicyErrorKind::Invalid {
                field: field.to_string(),
                reason: reason.into(),
            },
        );
    }
    pub(super) fn warn(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let location = self.loc(span);
        self.warnings.push(PolicyWarning {
            location,
            message: message.into(),
        });
    }
}

/// The entries of a list that may be absent.
pub(super) fn entries<T>(list: &Option<Spanned<Vec<T>>>) -> &[T] {
    list.as_ref().map_or(&[], |l| l.get_ref().as_slice())
}

/// The valid prefixes of `list` (sorted, deduplicated); errors for the others, a warning for a
/// prefix listed twice.
pub(super) fn prefixes(cx: &mut Ctx, list: &[Spanned<String>], field: &str) -> Vec<IpPrefix> {
    let mut out = BTreeSet::new();
    for (i, s) in list.iter().enumerate() {
        match IpPrefix::parse(s.get_ref()) {
            Ok(p) => {
                if !out.insert(p) {
                    cx.warn(&s.span(), format!("{field}[{i}]: {p} is listed twice"));
                }
            }
            Err(source) => cx.error(
                &s.span(),
                PolicyErrorKind::Prefix {
                    field: format!("{field}[{i}]"),
                    source,
                },
            ),
        }
    }
    out.into_iter().collect()
}
