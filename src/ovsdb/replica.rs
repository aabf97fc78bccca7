//! The rows of `Open_vSwitch`'s `Bridge`, `Controller` and `Open_vSwitch` tables that the
//! checks read, kept up to date from `monitor` replies and `update` notifications, and turned
//! into [`SwitchDatabase`] records. Pure: JSON in, records out.
//!
//! With the `monitor` method (RFC 7047 section 4.1.5) every row update carries `new` with all
//! monitored columns (insert, modify, initial) or only `old` (delete), so a row is replaced
//! whole or removed; no column-level merging is needed.
use super::datum::{self, DatumError};
use crate::doctor::{BridgeRecord, ControllerRecord, SwitchDatabase};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The database the tables belong to.
pub const DATABASE: &str = "Open_vSwitch";

const BRIDGE: &str = "Bridge";
const CONTROLLER: &str = "Controller";
const ROOT: &str = "Open_vSwitch";

const BRIDGE_COLUMNS: [&str; 6] = [
    "name",
    "fail_mode",
    "protocols",
    "other_config",
    "datapath_id",
    "controller",
];
const CONTROLLER_COLUMNS: [&str; 3] = ["target", "max_backoff", "inactivity_probe"];
const ROOT_COLUMNS: [&str; 1] = ["other_config"];

/// The `params` of a `monitor` request for the columns the checks read.
pub fn monitor_params(monitor_id: &str) -> Value {
    json!([
        DATABASE,
        monitor_id,
        {
            BRIDGE: {"columns": BRIDGE_COLUMNS},
            CONTROLLER: {"columns": CONTROLLER_COLUMNS},
            ROOT: {"columns": ROOT_COLUMNS},
        }
    ])
}

/// A table update that does not follow RFC 7047, or a row whose column has the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// `<table-updates>` is not `{table: {uuid: {"old"?: row, "new"?: row}}}`.
    #[error("malformed table update: {0}")]
    Update(String),
    /// A column of a row.
    #[error("{table} row {uuid}, column {column}: {source}")]
    Column {
        /// The table.
        table: &'static str,
        /// The row's uuid.
        uuid: String,
        /// The column.
        column: &'static str,
        /// What was wrong.
        source: DatumError,
    },
}

type Rows = BTreeMap<String, Map<String, Value>>;

/// The monitored rows of the three tables, by uuid.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    bridges: Rows,
    controllers: Rows,
    root: Rows,
}

impl Replica {
    /// Applies a `monitor` reply or the table updates of an `update` notification.
    pub fn apply(&mut self, updates: &Value) -> Result<(), ReplicaError> {
        let tables = updates
            .as_object()
            .ok_or_else(|| ReplicaError::Update("not an object".to_owned()))?;
        for (table, rows) in tables {
            let target = match table.as_str() {
                BRIDGE => &mut self.bridges,
                CONTROLLER => &mut self.controllers,
                ROOT => &mut self.root,
                _ => continue,
            };
            let rows = rows
                .as_object()
                .ok_or_else(|| ReplicaError::Update(format!("{table}: not an object")))?;
            for (uuid, change) in rows {
                match change.get("new") {
                    Some(Value::Object(row)) => {
                        target.insert(uuid.clone(), row.clone());
                    }
                    Some(_) => {
                        return Err(ReplicaError::Update(format!(
                            "{table} row {uuid}: \"new\" is not an object"
                        )))
                    }
                    None => {
                        target.remove(uuid);
                    }
                }
            }
        }
        Ok(())
    }

    /// The records the checks read, bridges sorted by name.
    pub fn database(&self) -> Result<SwitchDatabase, ReplicaError> {
        let mut controllers = BTreeMap::new();
        for (uuid, row) in &self.controllers {
            let col = Column::new(CONTROLLER, uuid, row);
            controllers.insert(
                uuid.as_str(),
                ControllerRecord {
                    uuid: uuid.clone(),
                    target: col.read("target", datum::string)?,
                    max_backoff_ms: col
                        .read("max_backoff", |v| datum::optional(v, datum::integer))?,
                    inactivity_probe_ms: col
                        .read("inactivity_probe", |v| datum::optional(v, datum::integer))?,
                },
            );
        }
        let mut bridges = Vec::with_capacity(self.bridges.len());
        for (uuid, row) in &self.bridges {
            let col = Column::new(BRIDGE, uuid, row);
            let refs = col.read("controller", |v| datum::set(v, datum::uuid))?;
            bridges.push(BridgeRecord {
                name: col.read("name", datum::string)?,
                fail_mode: col.read("fail_mode", |v| datum::optional(v, datum::string))?,
                protocols: col.read("protocols", |v| datum::set(v, datum::string))?,
                other_config: col.read("other_config", datum::string_map)?,
                datapath_id: col.read("datapath_id", |v| datum::optional(v, datum::string))?,
                // A reference to a row not (yet) seen cannot happen in one consistent
                // update; skip it rather than fail.
                controllers: refs
                    .iter()
                    .filter_map(|r| controllers.get(r.as_str()).cloned())
                    .collect(),
            });
        }
        bridges.sort_by(|a, b| a.name.cmp(&b.name));
        let mut vlan_limit = None;
        for (uuid, row) in &self.root {
            let config = Column::new(ROOT, uuid, row).read("other_config", datum::string_map)?;
            vlan_limit = config.get("vlan-limit").cloned();
        }
        Ok(SwitchDatabase {
            bridges,
            vlan_limit,
        })
    }
}

/// Reads the columns of one row, naming the row in errors.
struct Column<'a> {
    table: &'static str,
    uuid: &'a str,
    row: &'a Map<String, Value>,
}

impl<'a> Column<'a> {
    fn new(table: &'static str, uuid: &'a str, row: &'a Map<String, Value>) -> Self {
        Column { table, uuid, row }
    }

    fn read<T>(
        &self,
        column: &'static str,
        decode: impl Fn(&Value) -> Result<T, DatumError>,
    ) -> Result<T, ReplicaError> {
        let err = |source| ReplicaError::Column {
            table: self.table,
            uuid: self.uuid.to_owned(),
            column,
            source,
        };
        let v = self.row.get(column).ok_or_else(|| {
            err(DatumError {
                expected: "the column",
                found: "nothing".to_owned(),
            })
        })?;
        decode(v).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `monitor` reply as Open vSwitch 3.1's ovsdb-server sent it (seen on this machine).
    fn initial() -> Value {
        json!({
            "Controller": {
                "c-1": {"new": {"target": "tcp:127.0.0.1", "inactivity_probe": ["set", []], "max_backoff": ["set", []]}},
                "c-2": {"new": {"target": "tcp:10.1.1.1:6653", "inactivity_probe": ["set", []], "max_backoff": ["set", []]}},
                "c-3": {"new": {"target": "tcp:127.0.0.1:6653", "inactivity_probe": 0, "max_backoff": 1000}}
            },
            "Bridge": {
                "b-2": {"new": {"name": "b2", "controller": ["set", [["uuid", "c-1"], ["uuid", "c-2"]]],
                    "fail_mode": ["set", []], "other_config": ["map", []], "protocols": ["set", []],
                    "datapath_id": ["set", []]}},
                "b-1": {"new": {"name": "b1", "controller": ["uuid", "c-3"], "fail_mode": "secure",
                    "other_config": ["map", [["datapath-id", "0000000000000001"]]],
                    "protocols": "OpenFlow13", "datapath_id": "0000000000000001"}}
            },
            "Open_vSwitch": {"r": {"new": {"other_config": ["map", [["vlan-limit", "2"]]]}}}
        })
    }

    #[test]
    fn a_monitor_reply_becomes_records() {
        let mut r = Replica::default();
        r.apply(&initial()).expect("applies");
        let db = r.database().expect("decodes");
        assert_eq!(db.vlan_limit.as_deref(), Some("2"));
        let names: Vec<&str> = db.bridges.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["b1", "b2"]);
        let b1 = &db.bridges[0];
        assert_eq!(b1.fail_mode.as_deref(), Some("secure"));
        assert_eq!(b1.protocols, ["OpenFlow13"]);
        assert_eq!(b1.other_config["datapath-id"], "0000000000000001");
        assert_eq!(b1.datapath_id.as_deref(), Some("0000000000000001"));
        assert_eq!(
            b1.controllers,
            vec![ControllerRecord {
                uuid: "c-3".into(),
                target: "tcp:127.0.0.1:6653".into(),
                max_backoff_ms: Some(1000),
                inactivity_probe_ms: Some(0),
            }]
        );
        let b2 = &db.bridges[1];
        assert_eq!(b2.fail_mode, None);
        assert!(b2.protocols.is_empty() && b2.other_config.is_empty());
        let targets: Vec<&str> = b2.controllers.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(targets, ["tcp:127.0.0.1", "tcp:10.1.1.1:6653"]);
    }

    #[test]
    fn updates_replace_and_delete_rows() {
        let mut r = Replica::default();
        r.apply(&initial()).expect("applies");
        r.apply(&json!({
            "Bridge": {
                "b-1": {"old": {"fail_mode": "secure"}, "new": {"name": "b1", "controller": ["uuid", "c-3"],
                    "fail_mode": "standalone", "other_config": ["map", []], "protocols": "OpenFlow13",
                    "datapath_id": ["set", []]}},
                "b-2": {"old": {"name": "b2"}}
            },
            "Open_vSwitch": {"r": {"old": {}, "new": {"other_config": ["map", []]}}}
        }))
        .expect("applies");
        let db = r.database().expect("decodes");
        assert_eq!(db.bridges.len(), 1);
        assert_eq!(db.bridges[0].fail_mode.as_deref(), Some("standalone"));
        assert_eq!(db.vlan_limit, None);
    }

    #[test]
    fn malformed_rows_name_the_table_row_and_column() {
        let mut r = Replica::default();
        r.apply(&json!({"Bridge": {"b-9": {"new": {"name": 7, "controller": ["set", []]}}}}))
            .expect("applies");
        let e = r.database().expect_err("name is not a string");
        assert_eq!(
            e.to_string(),
            "Bridge row b-9, column name: expected a string, found 7"
        );
        assert!(r.apply(&json!([])).is_err());
        assert!(r.apply(&json!({"Bridge": {"b": {"new": 1}}})).is_err());
    }

    #[test]
    fn the_monitor_request_names_the_columns_read() {
        let p = monitor_params("op25b");
        assert_eq!(p[0], "Open_vSwitch");
        assert_eq!(p[1], "op25b");
        assert_eq!(p[2]["Controller"]["columns"], json!(CONTROLLER_COLUMNS));
        assert_eq!(p[2]["Bridge"]["columns"], json!(BRIDGE_COLUMNS));
    }
}
