//! The compiled form of an OPL document (or of a plain namespace list): what the engine evaluates.

use serde::{Deserialize, Serialize};

/// Every namespace of a project.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub namespaces: Vec<Namespace>,
}

/// One namespace (an OPL class).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    /// `related: { name: Types[] }`: relations that hold tuples.
    pub relations: Vec<Relation>,
    /// `permits = { name: (ctx) => rewrite }`: computed permissions.
    pub permits: Vec<Permit>,
}

/// A relation declared under `related`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub name: String,
    /// The subject types it may hold: namespaces, or subject sets of a namespace's relation.
    pub types: Vec<SubjectType>,
}

/// A type a relation may hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SubjectType {
    /// `User`: subjects of that namespace (objects of it, as subject sets with an empty relation, or ids).
    Namespace { namespace: String },
    /// `SubjectSet<Group, "members">`.
    SubjectSet { namespace: String, relation: String },
}

/// A permission declared under `permits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permit {
    pub name: String,
    pub rewrite: Rewrite,
}

/// How a permission is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Rewrite {
    /// Any operand holds (`||`).
    Union { children: Vec<Rewrite> },
    /// Every operand holds (`&&`).
    Intersection { children: Vec<Rewrite> },
    /// The operand does not hold (`!`).
    Not { child: Box<Rewrite> },
    /// `this.related.R.includes(ctx.subject)` or `this.permits.P(ctx)`: relation or permit `relation` of this object.
    ComputedSubjectSet { relation: String },
    /// `this.related.R.traverse((x) => x.related.S.includes(ctx.subject))` or `... x.permits.P(ctx)`:
    /// for each subject set in relation `relation`, its `computed` relation or permit.
    TupleToSubjectSet { relation: String, computed: String },
}

impl Schema {
    /// The namespace called `name`.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }

    /// A schema of plain namespaces (no OPL): every relation is a plain relation with any subject.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            namespaces: names
                .into_iter()
                .map(|n| Namespace { name: n.to_owned(), relations: vec![], permits: vec![] })
                .collect(),
        }
    }
}

impl Namespace {
    /// The permit called `name`.
    pub fn permit(&self, name: &str) -> Option<&Permit> {
        self.permits.iter().find(|p| p.name == name)
    }

    /// The relation called `name`.
    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }
}
