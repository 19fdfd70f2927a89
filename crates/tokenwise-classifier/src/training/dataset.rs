//! Reading the labelled JSONL dataset and fingerprinting it.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{ClassifierError, Result};
use crate::Difficulty;

/// One labelled prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Stable record id.
    pub id: String,
    /// The prompt text.
    pub prompt: String,
    /// The label.
    pub difficulty: Difficulty,
    /// The source dataset (the unit of leave-one-source-out validation).
    pub source: String,
    /// Finer category inside the source.
    pub category: String,
    /// The label was given per item by the rubric (`"labelled_by": "rubric"`): it serves as
    /// its own second label.
    pub labelled_by_rubric: bool,
}

#[derive(Deserialize)]
struct RawRecord {
    id: String,
    prompt: String,
    tier: String,
    source: String,
    #[serde(default)]
    category: String,
    /// `"rubric"` for prompts labelled per item by `RUBRIC_v2.md` (no second label needed).
    #[serde(default)]
    labelled_by: Option<String>,
}

#[derive(Deserialize)]
struct SecondLabel {
    id: String,
    tier: String,
}

/// How `Dataset::relabel` uses the second labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondLabels {
    /// Each record takes its second label.
    Replace,
    /// Only the records whose two labels agree are kept.
    ConsensusOnly,
    /// Both labels count: a record whose labels differ is kept with its first label and
    /// joined by a twin (id `…#v2`) with the second, so the model learns both answers for it
    /// (soft targets of one half each, within its source's balancing).
    Both,
}

/// A loaded dataset and the SHA-256 of the file it came from.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Records in file order.
    pub records: Vec<Record>,
    /// Hex SHA-256 of the file bytes.
    pub sha256: String,
}

impl Dataset {
    /// Reads a JSONL file of `{"id","prompt","tier","source","category",...}` objects.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).map_err(|e| ClassifierError::io(path.display().to_string(), e))?;
        let sha256 = sha256_hex(&bytes);
        let text = String::from_utf8(bytes).map_err(|e| ClassifierError::InvalidRecord {
            line: 0,
            message: format!("file is not UTF-8: {e}"),
        })?;
        let records = parse_jsonl(&text)?;
        Ok(Self { records, sha256 })
    }

    /// Reads several JSONL files into one dataset, in order. With one file the fingerprint is
    /// that file's SHA-256; with several, the SHA-256 of their fingerprints joined by `+`.
    pub fn load_all(paths: &[impl AsRef<Path>]) -> Result<Self> {
        let mut parts = paths.iter().map(|path| Self::load(path.as_ref()));
        let mut dataset = parts
            .next()
            .ok_or_else(|| ClassifierError::InvalidRecord {
                line: 0,
                message: "no data file given".into(),
            })??;
        let mut fingerprints = vec![dataset.sha256.clone()];
        for part in parts {
            let part = part?;
            fingerprints.push(part.sha256);
            dataset.records.extend(part.records);
        }
        if fingerprints.len() > 1 {
            dataset.sha256 = sha256_hex(fingerprints.join("+").as_bytes());
        }
        Ok(dataset)
    }

    /// Applies second labels (a `labels_v2.jsonl`: `{"id", "tier", ...}` lines) as `use_as`
    /// says. Every record must have a second label, except those labelled per item by the
    /// rubric (`"labelled_by": "rubric"`), whose label is already of the second kind: they keep
    /// it and count as agreeing. The fingerprint then covers both files.
    pub fn relabel(&mut self, labels_path: &Path, use_as: SecondLabels) -> Result<()> {
        let bytes = std::fs::read(labels_path)
            .map_err(|e| ClassifierError::io(labels_path.display().to_string(), e))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut labels = std::collections::HashMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let raw: SecondLabel =
                serde_json::from_str(line).map_err(|e| ClassifierError::InvalidRecord {
                    line: index + 1,
                    message: e.to_string(),
                })?;
            let tier =
                Difficulty::parse(&raw.tier).ok_or_else(|| ClassifierError::InvalidRecord {
                    line: index + 1,
                    message: format!("unknown tier {:?}", raw.tier),
                })?;
            labels.insert(raw.id, tier);
        }
        for record in self.records.iter().filter(|r| r.labelled_by_rubric) {
            labels.entry(record.id.clone()).or_insert(record.difficulty);
        }
        if let Some(missing) = self.records.iter().find(|r| !labels.contains_key(&r.id)) {
            return Err(ClassifierError::InvalidRecord {
                line: 0,
                message: format!("record {} has no second label", missing.id),
            });
        }
        match use_as {
            SecondLabels::Replace => {
                for record in &mut self.records {
                    record.difficulty = labels[&record.id];
                }
            }
            SecondLabels::ConsensusOnly => self.records.retain(|r| labels[&r.id] == r.difficulty),
            SecondLabels::Both => {
                let twins: Vec<Record> = self
                    .records
                    .iter()
                    .filter(|r| labels[&r.id] != r.difficulty)
                    .map(|r| Record {
                        id: format!("{}#v2", r.id),
                        difficulty: labels[&r.id],
                        ..r.clone()
                    })
                    .collect();
                self.records.extend(twins);
            }
        }
        self.sha256 = sha256_hex(format!("{}+{}", self.sha256, sha256_hex(&bytes)).as_bytes());
        Ok(())
    }

    /// The distinct sources, sorted by name.
    pub fn sources(&self) -> Vec<String> {
        let mut sources: Vec<String> = self.records.iter().map(|r| r.source.clone()).collect();
        sources.sort();
        sources.dedup();
        sources
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses JSONL text; blank lines are skipped.
pub fn parse_jsonl(text: &str) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_number = index + 1;
        let raw: RawRecord =
            serde_json::from_str(line).map_err(|e| ClassifierError::InvalidRecord {
                line: line_number,
                message: e.to_string(),
            })?;
        let tier = Difficulty::parse(&raw.tier).ok_or_else(|| ClassifierError::InvalidRecord {
            line: line_number,
            message: format!("unknown tier {:?}", raw.tier),
        })?;
        records.push(Record {
            id: raw.id,
            prompt: raw.prompt,
            difficulty: tier,
            source: raw.source,
            category: raw.category,
            labelled_by_rubric: raw.labelled_by.as_deref() == Some("rubric"),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_labels_replace_the_first_or_keep_only_where_they_agree() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("train.jsonl");
        std::fs::write(
            &data,
            "{\"id\":\"a\",\"prompt\":\"x\",\"tier\":\"simple\",\"source\":\"s\"}\n\
             {\"id\":\"b\",\"prompt\":\"y\",\"tier\":\"complex\",\"source\":\"t\"}\n",
        )
        .unwrap();
        let labels = dir.path().join("labels.jsonl");
        std::fs::write(
            &labels,
            "{\"id\":\"a\",\"tier\":\"simple\",\"why\":\"w\"}\n{\"id\":\"b\",\"tier\":\"medium\"}\n",
        )
        .unwrap();
        let mut v2 = Dataset::load(&data).unwrap();
        let first = v2.sha256.clone();
        v2.relabel(&labels, SecondLabels::Replace).unwrap();
        let tiers: Vec<_> = v2.records.iter().map(|r| r.difficulty).collect();
        assert_eq!(tiers, [Difficulty::Simple, Difficulty::Medium]);
        assert_ne!(v2.sha256, first);
        let mut consensus = Dataset::load(&data).unwrap();
        consensus
            .relabel(&labels, SecondLabels::ConsensusOnly)
            .unwrap();
        assert_eq!(consensus.records.len(), 1);
        assert_eq!(consensus.records[0].id, "a");
        let mut both = Dataset::load(&data).unwrap();
        both.relabel(&labels, SecondLabels::Both).unwrap();
        let kept: Vec<_> = both
            .records
            .iter()
            .map(|r| (r.id.as_str(), r.difficulty, r.source.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("a", Difficulty::Simple, "s"),
                ("b", Difficulty::Complex, "t"),
                ("b#v2", Difficulty::Medium, "t"),
            ]
        );
        std::fs::write(&labels, "{\"id\":\"a\",\"tier\":\"simple\"}\n").unwrap();
        let error = Dataset::load(&data)
            .unwrap()
            .relabel(&labels, SecondLabels::Replace)
            .unwrap_err();
        assert!(error.to_string().contains("no second label"), "{error}");
    }

    #[test]
    fn rubric_labelled_records_are_their_own_second_label_and_files_load_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("train.jsonl");
        std::fs::write(
            &data,
            "{\"id\":\"a\",\"prompt\":\"x\",\"tier\":\"simple\",\"source\":\"s\"}\n",
        )
        .unwrap();
        let written = dir.path().join("rubric_written.jsonl");
        std::fs::write(
            &written,
            "{\"id\":\"r\",\"prompt\":\"z\",\"tier\":\"complex\",\"source\":\"w\",\
             \"labelled_by\":\"rubric\"}\n",
        )
        .unwrap();
        let labels = dir.path().join("labels.jsonl");
        std::fs::write(&labels, "{\"id\":\"a\",\"tier\":\"medium\"}\n").unwrap();

        let both = Dataset::load_all(&[&data, &written]).unwrap();
        let ids: Vec<_> = both.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "r"]);
        assert!(!both.records[0].labelled_by_rubric && both.records[1].labelled_by_rubric);
        let alone = Dataset::load_all(&[&data]).unwrap();
        assert_eq!(alone.sha256, Dataset::load(&data).unwrap().sha256);
        assert_ne!(both.sha256, alone.sha256);
        let no_files: [&Path; 0] = [];
        assert!(Dataset::load_all(&no_files).is_err());

        // v2: the rubric record keeps its label; consensus: it agrees with itself, `a` does not.
        let mut v2 = both.clone();
        v2.relabel(&labels, SecondLabels::Replace).unwrap();
        let tiers: Vec<_> = v2.records.iter().map(|r| r.difficulty).collect();
        assert_eq!(tiers, [Difficulty::Medium, Difficulty::Complex]);
        let mut consensus = both.clone();
        consensus
            .relabel(&labels, SecondLabels::ConsensusOnly)
            .unwrap();
        let ids: Vec<_> = consensus.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["r"]);
        // A record of another file still needs its second label.
        std::fs::write(&labels, "{\"id\":\"q\",\"tier\":\"medium\"}\n").unwrap();
        let error = both
            .clone()
            .relabel(&labels, SecondLabels::Replace)
            .unwrap_err();
        assert!(
            error.to_string().contains("record a has no second label"),
            "{error}"
        );
    }

    #[test]
    fn parses_records_and_rejects_unknown_tiers() {
        let text = r#"{"id":"a","prompt":"hi","tier":"simple","source":"s","category":"c","license":"MIT"}

{"id":"b","prompt":"yo","tier":"complex","source":"t","category":"c"}"#;
        let records = parse_jsonl(text).expect("valid JSONL");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].difficulty, Difficulty::Complex);
        let bad = r#"{"id":"a","prompt":"hi","tier":"hard","source":"s"}"#;
        assert!(parse_jsonl(bad).is_err());
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
