//! Reading a Grafana dashboard JSON for a test: every panel's PromQL (`targets[].expr`, rows'
//! nested panels included), the template variables' queries, and Grafana's variable
//! substitution (`$name`, `${name}`, `[[name]]`), which must leave no variable behind.

use serde_json::Value;

/// One query of one panel.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelQuery {
    /// `"<panel title> [<refId>]"`.
    pub panel: String,
    pub expr: String,
}

/// Every `targets[].expr` of every panel, depth first (rows hold panels when collapsed).
pub fn panel_queries(dashboard: &Value) -> Vec<PanelQuery> {
    fn walk(panels: &Value, out: &mut Vec<PanelQuery>) {
        for p in panels.as_array().into_iter().flatten() {
            let title = p["title"].as_str().unwrap_or("(untitled)");
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = t["expr"].as_str() {
                    out.push(PanelQuery {
                        panel: format!("{title} [{}]", t["refId"].as_str().unwrap_or("?")),
                        expr: expr.to_owned(),
                    });
                }
            }
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// The `query` template variables: (name, query), e.g. `("dpid",
/// "label_values(op25b_switch_sync_state{job=\"$job\"}, dpid)")`.
pub fn variable_queries(dashboard: &Value) -> Vec<(String, String)> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .filter_map(|v| {
            let q = v["query"]
                .as_str()
                .or_else(|| v["query"]["query"].as_str())?;
            Some((v["name"].as_str()?.to_owned(), q.to_owned()))
        })
        .collect()
}

/// `label_values(<selector>, <label>)` split into the selector (a PromQL expression) and the
/// label; `None` for any other form.
pub fn label_values(query: &str) -> Option<(String, String)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some((selector.trim().to_owned(), label.trim().to_owned()))
}

/// Replaces every `${name}`, `[[name]]` and `$name` of `values` in `expr`; an error names any
/// `$` left over (a variable the caller did not give a value).
pub fn substitute(expr: &str, values: &[(&str, &str)]) -> Result<String, String> {
    let mut out = expr.to_owned();
    // Longest names first, so `$__rate_interval` is not taken for `$__rate`.
    let mut sorted = values.to_vec();
    sorted.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    for (name, value) in sorted {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("[[{name}]]"), value)
            .replace(&format!("${name}"), value);
    }
    match out.find('$') {
        Some(i) => Err(format!(
            "unsubstituted variable at {:?} in {out}",
            &out[i..]
        )),
        None => Ok(out),
    }
}
