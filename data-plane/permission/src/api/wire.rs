//! Keto's JSON, exactly: relationships, queries, check results, expand trees, namespaces and OPL errors.

use serde::{Deserialize, Serialize};

use crate::engine::{ExpandNode, NodeType};
use crate::tuple::{RelationTuple, Subject, SubjectSet};

/// A subject set as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectSetJson {
    pub namespace: String,
    pub object: String,
    pub relation: String,
}

/// A relationship as JSON: `subject_id` or `subject_set`, never both.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RelationshipJson {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_set: Option<SubjectSetJson>,
}

/// A relationship as the API writes it (every key present).
#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    pub namespace: String,
    pub object: String,
    pub relation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_set: Option<SubjectSetJson>,
}

impl From<&RelationTuple> for Relationship {
    fn from(t: &RelationTuple) -> Self {
        let (subject_id, subject_set) = subject_json(&t.subject);
        Self {
            namespace: t.namespace.clone(),
            object: t.object.clone(),
            relation: t.relation.clone(),
            subject_id,
            subject_set,
        }
    }
}

fn subject_json(s: &Subject) -> (Option<String>, Option<SubjectSetJson>) {
    match s {
        Subject::Id(id) => (Some(id.clone()), None),
        Subject::Set(set) => (
            None,
            Some(SubjectSetJson {
                namespace: set.namespace.clone(),
                object: set.object.clone(),
                relation: set.relation.clone(),
            }),
        ),
    }
}

impl RelationshipJson {
    /// The subject, when exactly one of `subject_id` and `subject_set` is given.
    pub fn subject(&self) -> Result<Option<Subject>, &'static str> {
        match (&self.subject_id, &self.subject_set) {
            (Some(_), Some(_)) => Err("provide either subject_id or subject_set, not both"),
            (Some(id), None) => Ok(Some(Subject::Id(id.clone()))),
            (None, Some(s)) => Ok(Some(Subject::Set(SubjectSet {
                namespace: s.namespace.clone(),
                object: s.object.clone(),
                relation: s.relation.clone(),
            }))),
            (None, None) => Ok(None),
        }
    }

    /// A complete relationship: namespace, object, relation and exactly one subject.
    pub fn tuple(&self) -> Result<RelationTuple, &'static str> {
        let subject = self.subject()?.ok_or("a relationship needs subject_id or subject_set")?;
        match (&self.namespace, &self.object, &self.relation) {
            (Some(n), Some(o), Some(r)) => {
                Ok(RelationTuple { namespace: n.clone(), object: o.clone(), relation: r.clone(), subject })
            }
            _ => Err("a relationship needs namespace, object and relation"),
        }
    }
}

/// A page of relationships.
#[derive(Debug, Serialize)]
pub struct Relationships {
    pub relation_tuples: Vec<Relationship>,
    pub next_page_token: String,
}

/// One delta of a patch.
#[derive(Debug, Deserialize)]
pub struct PatchDelta {
    pub action: Option<String>,
    pub relation_tuple: Option<RelationshipJson>,
}

/// `{"allowed": …}`.
#[derive(Debug, Serialize)]
pub struct CheckResult {
    pub allowed: bool,
}

/// A batch check's request.
#[derive(Debug, Deserialize)]
pub struct BatchCheckBody {
    #[serde(default)]
    pub tuples: Vec<RelationshipJson>,
}

/// One result of a batch check.
#[derive(Debug, Serialize)]
pub struct BatchCheckItem {
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A batch check's answer.
#[derive(Debug, Serialize)]
pub struct BatchCheckResult {
    pub results: Vec<BatchCheckItem>,
}

/// An expand tree node: the node's subject is carried in `tuple` (its namespace, object and relation are empty).
#[derive(Debug, Serialize)]
pub struct Tree {
    #[serde(rename = "type")]
    pub node_type: &'static str,
    pub tuple: Relationship,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Tree>,
}

impl From<&ExpandNode> for Tree {
    fn from(n: &ExpandNode) -> Self {
        let (subject_id, subject_set) = n.subject.as_ref().map(subject_json).unwrap_or((None, None));
        let children: Vec<Tree> = n.children.iter().map(Tree::from).collect();
        // Keto: a node without children is a leaf, whatever it would have been.
        let node_type = if children.is_empty() { NodeType::Leaf.as_str() } else { n.node_type.as_str() };
        Tree {
            node_type,
            tuple: Relationship {
                namespace: String::new(),
                object: String::new(),
                relation: String::new(),
                subject_id,
                subject_set,
            },
            children,
        }
    }
}

/// `{"namespaces": [{"name": …}]}`.
#[derive(Debug, Serialize)]
pub struct Namespaces {
    pub namespaces: Vec<NamespaceName>,
}

/// A namespace.
#[derive(Debug, Serialize)]
pub struct NamespaceName {
    pub name: String,
}

/// A position as Keto writes it (note the capital `Line`).
#[derive(Debug, Serialize)]
pub struct SourcePosition {
    #[serde(rename = "Line")]
    pub line: u32,
    pub column: u32,
}

/// One OPL error.
#[derive(Debug, Serialize)]
pub struct OplError {
    pub message: String,
    pub start: SourcePosition,
    pub end: SourcePosition,
}

/// `POST /opl/syntax/check`'s answer; `{}` when the document is valid, as Keto answers.
#[derive(Debug, Serialize)]
pub struct OplCheckResult {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<OplError>,
}
