//! Relation tuples ("relationships"): `namespace:object#relation@subject`, where the subject is a subject id or
//! a subject set `namespace:object#relation`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest namespace, object, relation or subject id accepted, in bytes.
pub const MAX_FIELD_LEN: usize = 1024;

/// A subject set: everyone with `relation` on `namespace:object`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SubjectSet {
    pub namespace: String,
    pub object: String,
    pub relation: String,
}

/// Who a tuple grants something to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// An opaque subject id (a user id, typically).
    Id(String),
    /// A set of subjects.
    Set(SubjectSet),
}

/// One relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationTuple {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    pub subject: Subject,
}

/// Why a tuple string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a relation tuple (expected namespace:object#relation@subject): {why}")]
pub struct TupleParseError {
    pub input: String,
    pub why: &'static str,
}

impl fmt::Display for SubjectSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}#{}", self.namespace, self.object, self.relation)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Id(id) => f.write_str(id),
            Subject::Set(s) => s.fmt(f),
        }
    }
}

impl fmt::Display for RelationTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}#{}@{}", self.namespace, self.object, self.relation, self.subject)
    }
}

impl FromStr for SubjectSet {
    type Err = TupleParseError;
    /// `namespace:object#relation`; `namespace:object` is the set with an empty relation.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| TupleParseError { input: s.to_owned(), why };
        let (namespace, rest) = s.split_once(':').ok_or_else(|| err("a subject set needs `namespace:object`"))?;
        let (object, relation) = match rest.rsplit_once('#') {
            Some((o, r)) => (o, r),
            None => (rest, ""),
        };
        Ok(SubjectSet { namespace: namespace.to_owned(), object: object.to_owned(), relation: relation.to_owned() })
    }
}

impl FromStr for Subject {
    type Err = TupleParseError;
    /// A subject set when it contains `:`, else a subject id.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') { s.parse().map(Subject::Set) } else { Ok(Subject::Id(s.to_owned())) }
    }
}

impl FromStr for RelationTuple {
    type Err = TupleParseError;
    /// `namespace:object#relation@subject`. The object may contain `:` and `#`; the subject follows the last `@`
    /// that comes after the relation's `#`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| TupleParseError { input: s.to_owned(), why };
        let (namespace, rest) = s.split_once(':').ok_or_else(|| err("missing `:` after the namespace"))?;
        let (object_relation, subject) = rest.rsplit_once('@').ok_or_else(|| err("missing `@` before the subject"))?;
        let (object, relation) =
            object_relation.rsplit_once('#').ok_or_else(|| err("missing `#` before the relation"))?;
        let subject: Subject = subject.parse().map_err(|_| err("the subject set is malformed"))?;
        Ok(RelationTuple {
            namespace: namespace.to_owned(),
            object: object.to_owned(),
            relation: relation.to_owned(),
            subject,
        })
    }
}

impl RelationTuple {
    /// Checks field sizes; every string, including the empty one, is otherwise a legal id.
    pub fn validate(&self) -> Result<(), String> {
        let mut fields = vec![("namespace", &self.namespace), ("object", &self.object), ("relation", &self.relation)];
        match &self.subject {
            Subject::Id(id) => fields.push(("subject_id", id)),
            Subject::Set(s) => fields.extend([
                ("subject_set.namespace", &s.namespace),
                ("subject_set.object", &s.object),
                ("subject_set.relation", &s.relation),
            ]),
        }
        for (name, value) in fields {
            if value.len() > MAX_FIELD_LEN {
                return Err(format!("{name} is longer than {MAX_FIELD_LEN} bytes"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for s in [
            "doc:readme#viewer@alice",
            "doc:readme#viewer@group:eng#member",
            "doc:#viewer@",
            "folder:a:b#parent@folder:a",
            "n:o#r@ns:obj#",
        ] {
            let t: RelationTuple = s.parse().unwrap();
            let back: RelationTuple = t.to_string().parse().unwrap();
            assert_eq!(back, t, "{s}");
        }
        let t: RelationTuple = "doc:x#viewer@group:eng#member".parse().unwrap();
        assert_eq!(
            t.subject,
            Subject::Set(SubjectSet { namespace: "group".into(), object: "eng".into(), relation: "member".into() })
        );
        assert_eq!(
            "doc:readme#viewer@".parse::<RelationTuple>().unwrap().subject,
            Subject::Id(String::new()),
            "empty ids are legal"
        );
        for bad in ["", "doc", "doc:readme", "doc:readme#viewer", "docreadme#viewer@x"] {
            assert!(bad.parse::<RelationTuple>().is_err(), "{bad}");
        }
    }
}
