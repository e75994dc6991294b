//! Input formats, read from the declarative mapping files under `schemas/formats/`.
//!
//! A format names the table it feeds and how the input's header maps onto the table's columns:
//! either the header *is* the column names (`headers_are_columns = true`: the canonical
//! layouts), or each vendor header maps to a column, with optional value maps
//! (`"Origination" = "origination"`), constants the vendor leaves implicit (`direction`,
//! `currency`) and a recipe for a stable call id when the vendor has none. Adding a vendor is
//! adding a file: the built-in files are embedded in the binary, and a directory of further
//! files can be named in the configuration.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::schema::{self, SCHEMAS_DIR, TableDef};

/// One vendor header and where it goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMapping {
    /// The header as the vendor writes it.
    pub header: String,
    /// Other spellings of the same header.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The table column it fills; `None` for a header that is read and not stored.
    pub column: Option<String>,
    /// Vendor value → stored value (e.g. `Origination` → `origination`).
    #[serde(default)]
    pub values: HashMap<String, String>,
}

/// How to derive a stable call id for a format that has none.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallIdRecipe {
    /// Prefix of every derived id.
    pub prefix: String,
    /// Columns whose values identify the call.
    pub from: Vec<String>,
}

/// An input format, as declared in `schemas/formats/NAME.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// Name used with `--format`.
    pub name: String,
    /// Table the rows go to.
    pub table: String,
    /// One line about the format.
    pub doc: String,
    /// The header names the table's columns directly.
    #[serde(default)]
    pub headers_are_columns: bool,
    /// Values of columns the vendor leaves implicit.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Recipe for a call id when the vendor has none.
    pub call_id: Option<CallIdRecipe>,
    /// Vendor header → column.
    #[serde(default)]
    pub columns: Vec<HeaderMapping>,
}

/// Where each input field goes, resolved against one file's header.
#[derive(Debug, Clone)]
pub struct FieldPlan {
    /// Per input field: the target column index and value map, or `None` to skip it.
    pub fields: Vec<Option<(usize, HashMap<String, String>)>>,
}

impl Format {
    /// Parses and validates one format file.
    pub fn parse(file: &str, text: &str) -> Result<Format> {
        let format: Format =
            toml::from_str(text).map_err(|e| Error::schema_file(file, e.to_string()))?;
        format.validate().map_err(|m| Error::schema_file(file, m))?;
        Ok(format)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let table = schema::table(&self.table).map_err(|e| e.to_string())?;
        let known = |c: &str| table.column(c).is_some();
        if self.headers_are_columns != self.columns.is_empty() {
            return Err("give either headers_are_columns = true or [[columns]], not both".into());
        }
        let mapped = self.columns.iter().filter_map(|m| m.column.as_deref());
        let recipe = self
            .call_id
            .iter()
            .flat_map(|r| r.from.iter().map(String::as_str));
        let named = self.constants.keys().map(String::as_str);
        if let Some(bad) = mapped.chain(recipe).chain(named).find(|c| !known(c)) {
            return Err(format!(
                "names unknown column {bad} of table {}",
                self.table
            ));
        }
        Ok(())
    }

    /// The table this format feeds.
    pub fn table_def(&self) -> Result<&'static TableDef> {
        schema::table(&self.table)
    }

    /// Whether a file with this header is in this format: every header is known and every
    /// non-null column without a default is supplied.
    pub fn matches(&self, header: &[String]) -> bool {
        self.plan(header).is_ok()
    }

    /// Resolves a file's header into a [`FieldPlan`], or says what does not fit.
    pub fn plan(&self, header: &[String]) -> std::result::Result<FieldPlan, String> {
        let table = self.table_def().map_err(|e| e.to_string())?;
        let mut fields = Vec::with_capacity(header.len());
        let mut filled = vec![false; table.columns.len()];
        for name in header {
            let name = name.trim();
            let target = if self.headers_are_columns {
                let i = table
                    .index_of(name)
                    .filter(|&i| table.columns[i].generated_from.is_none())
                    .ok_or_else(|| format!("unknown column \"{name}\" for table {}", table.name))?;
                Some((i, HashMap::new()))
            } else {
                let m = self
                    .columns
                    .iter()
                    .find(|m| m.header == name || m.aliases.iter().any(|a| a == name))
                    .ok_or_else(|| {
                        format!("unexpected header \"{name}\" for format {}", self.name)
                    })?;
                m.column
                    .as_ref()
                    .map(|c| (table.index_of(c).unwrap_or_default(), m.values.clone()))
            };
            if let Some((i, _)) = &target
                && std::mem::replace(&mut filled[*i], true)
            {
                return Err(format!("column \"{name}\" appears twice"));
            }
            fields.push(target);
        }
        let derived = self.call_id.iter().map(|_| "call_id");
        for c in self.constants.keys().map(String::as_str).chain(derived) {
            if let Some(i) = table.index_of(c) {
                filled[i] = true;
            }
        }
        let missing: Vec<_> = table
            .columns
            .iter()
            .zip(&filled)
            .filter(|(c, f)| {
                !**f && !c.nullable && c.default.is_none() && c.generated_from.is_none()
            })
            .map(|(c, _)| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!("missing required column(s) {}", missing.join(", ")));
        }
        Ok(FieldPlan { fields })
    }
}

/// The known formats: the built-in files, then any in `extra_dir` (which may override them).
#[derive(Debug, Clone)]
pub struct Formats {
    formats: Vec<Format>,
}

impl Formats {
    /// Loads the built-in formats and, when given, every `*.toml` in `extra_dir`.
    pub fn load(extra_dir: Option<&Path>) -> Result<Formats> {
        let dir = SCHEMAS_DIR
            .get_dir("formats")
            .ok_or_else(|| Error::schema_file("schemas/formats", "directory missing"))?;
        let mut formats = Vec::new();
        for file in dir.files() {
            let path = file.path().display().to_string();
            if path.ends_with(".toml") {
                let text = file
                    .contents_utf8()
                    .ok_or_else(|| Error::schema_file(&path, "not UTF-8"))?;
                formats.push(Format::parse(&path, text)?);
            }
        }
        if let Some(extra) = extra_dir {
            let entries = std::fs::read_dir(extra).map_err(|source| Error::ReadFile {
                path: extra.to_path_buf(),
                source,
            })?;
            for entry in entries {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let text =
                        std::fs::read_to_string(&path).map_err(|source| Error::ReadFile {
                            path: path.clone(),
                            source,
                        })?;
                    let format = Format::parse(&path.display().to_string(), &text)?;
                    formats.retain(|f| f.name != format.name);
                    formats.push(format);
                }
            }
        }
        formats.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Formats { formats })
    }

    /// The format called `name`.
    pub fn get(&self, name: &str) -> Result<&Format> {
        self.formats.iter().find(|f| f.name == name).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unknown format {name}; known formats: {}",
                self.names().join(", ")
            ))
        })
    }

    /// Names of all formats.
    pub fn names(&self) -> Vec<&str> {
        self.formats.iter().map(|f| f.name.as_str()).collect()
    }

    /// The one format whose header this is.
    pub fn detect(&self, file: &str, header: &[String]) -> Result<&Format> {
        let found: Vec<_> = self.formats.iter().filter(|f| f.matches(header)).collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::UnknownFormat {
                file: file.to_string(),
                message: format!(
                    "the header matches no known format ({}); first header fields: {}",
                    self.names().join(", "),
                    header
                        .iter()
                        .take(4)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            many => Err(Error::UnknownFormat {
                file: file.to_string(),
                message: format!(
                    "the header matches several formats ({}); choose one with --format",
                    many.iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn built_in_formats_load_and_detect() {
        let formats = Formats::load(None).unwrap();
        assert_eq!(
            formats.names(),
            [
                "billing-events",
                "canonical",
                "didww-inbound",
                "didww-outbound",
                "rates",
                "refunds"
            ]
        );
        let inbound = header(
            "Date/Time Start (UTC),Date/Time Connect (UTC),Date/Time End (UTC),Source,DID,Destination,Duration (secs),Disconnect Initiator,Disconnect Code,Disconnect Response,Toll-free Amount (USD),Termination Amount (USD),Metered Channels Amount (USD)",
        );
        assert_eq!(formats.detect("f", &inbound).unwrap().name, "didww-inbound");
        let canonical =
            header("tenant,call_id,direction,start_time,end_time,duration_s,source,destination");
        assert_eq!(formats.detect("f", &canonical).unwrap().name, "canonical");
    }

    #[test]
    fn unknown_headers_and_missing_columns_are_explained() {
        let formats = Formats::load(None).unwrap();
        let err = formats
            .detect("x.csv", &header("foo,bar"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("matches no known format"), "{err}");
        let canonical = formats.get("canonical").unwrap();
        let err = canonical.plan(&header("call_id,direction")).unwrap_err();
        assert!(
            err.contains("missing required column(s) start_time"),
            "{err}"
        );
        let err = canonical.plan(&header("call_id,colour")).unwrap_err();
        assert!(err.contains("unknown column \"colour\""), "{err}");
    }
}
