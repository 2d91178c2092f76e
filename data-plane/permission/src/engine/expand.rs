//! Expand: the tree of everyone who has a relation on an object, as Keto draws it.
//!
//! A subject set expands to a union of the subjects its tuples name (subject sets expand further, one depth
//! level each); a permit expands through its rewrite (union, intersection, exclusion for `!`). Cycles end in
//! an empty union; the depth budget and a node budget cut the tree short.

use std::collections::HashSet;

use tessera_opl::{Rewrite, Schema};

use super::{RelationKind, relation_kind};
use crate::index::ProjectIndex;
use crate::tuple::{Subject, SubjectSet};

/// The kind of a tree node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    Union,
    Exclusion,
    Intersection,
    Leaf,
}

impl NodeType {
    /// Keto's name for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeType::Union => "union",
            NodeType::Exclusion => "exclusion",
            NodeType::Intersection => "intersection",
            NodeType::Leaf => "leaf",
        }
    }
}

/// A node of the expand tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandNode {
    pub node_type: NodeType,
    /// The subject the node stands for; absent for the operands of nested rewrites.
    pub subject: Option<Subject>,
    pub children: Vec<ExpandNode>,
}

/// Most nodes one expand builds.
pub const MAX_NODES: usize = 10_000;

struct Builder<'a> {
    index: &'a ProjectIndex,
    schema: &'a Schema,
    ancestry: HashSet<SubjectSet>,
    nodes: usize,
}

/// Expands `set` with `depth` levels.
pub fn expand(index: &ProjectIndex, schema: &Schema, set: &SubjectSet, depth: i32) -> ExpandNode {
    let mut b = Builder { index, schema, ancestry: HashSet::new(), nodes: 0 };
    b.subject(Subject::Set(set.clone()), depth)
}

fn node(node_type: NodeType, subject: Option<Subject>) -> ExpandNode {
    ExpandNode { node_type, subject, children: Vec::new() }
}

impl Builder<'_> {
    fn subject(&mut self, subject: Subject, depth: i32) -> ExpandNode {
        self.nodes += 1;
        let set = match &subject {
            Subject::Set(s) if !s.relation.is_empty() => s.clone(),
            _ => return node(NodeType::Leaf, Some(subject)),
        };
        if !self.ancestry.insert(set.clone()) {
            return node(NodeType::Union, Some(subject));
        }
        let tree = match relation_kind(self.schema, &set.namespace, &set.relation) {
            Ok(Some(RelationKind::Permit(rewrite))) => self.rewrite(&set, rewrite, depth),
            _ => self.direct(&set, depth),
        };
        self.ancestry.remove(&set);
        tree
    }

    fn direct(&mut self, set: &SubjectSet, depth: i32) -> ExpandNode {
        let mut tree = node(NodeType::Union, Some(Subject::Set(set.clone())));
        if depth <= 1 || self.nodes >= MAX_NODES {
            return tree;
        }
        let Some(n) = self.index.node(&set.namespace, &set.object, &set.relation) else { return tree };
        let mut subjects: Vec<Subject> =
            self.index.subject_ids(n).map(|id| Subject::Id(self.index.resolve(id).to_owned())).collect();
        subjects.extend(self.index.subject_sets(n).iter().map(|s| Subject::Set(self.index.subject_set(*s))));
        subjects.sort();
        for subject in subjects {
            if self.nodes >= MAX_NODES {
                break;
            }
            let child = self.subject(subject, depth - 1);
            tree.children.push(child);
        }
        tree
    }

    fn rewrite(&mut self, set: &SubjectSet, rewrite: &Rewrite, depth: i32) -> ExpandNode {
        let (node_type, children) = match rewrite {
            Rewrite::Union { children } => (NodeType::Union, children.as_slice()),
            Rewrite::Intersection { children } => (NodeType::Intersection, children.as_slice()),
            single => (NodeType::Union, std::slice::from_ref(single)),
        };
        let mut tree = node(node_type, Some(Subject::Set(set.clone())));
        for child in children {
            let mut sub = self.operand(set, child, depth);
            if matches!(child, Rewrite::Union { .. } | Rewrite::Intersection { .. }) {
                sub.subject = None;
            }
            tree.children.push(sub);
        }
        tree
    }

    fn operand(&mut self, set: &SubjectSet, rewrite: &Rewrite, depth: i32) -> ExpandNode {
        match rewrite {
            Rewrite::Union { .. } | Rewrite::Intersection { .. } => self.rewrite(set, rewrite, depth),
            Rewrite::ComputedSubjectSet { relation } => {
                let computed = SubjectSet { relation: relation.clone(), ..set.clone() };
                self.subject(Subject::Set(computed), depth - 1)
            }
            Rewrite::TupleToSubjectSet { relation, computed } => {
                let via = SubjectSet { relation: relation.clone(), ..set.clone() };
                let mut tree = node(NodeType::Union, Some(Subject::Set(via.clone())));
                if depth <= 1 || self.nodes >= MAX_NODES {
                    return tree;
                }
                let Some(n) = self.index.node(&via.namespace, &via.object, &via.relation) else { return tree };
                let mut targets: Vec<SubjectSet> = self
                    .index
                    .subject_sets(n)
                    .iter()
                    .map(|s| SubjectSet {
                        namespace: self.index.resolve(s.namespace).to_owned(),
                        object: self.index.resolve(s.object).to_owned(),
                        relation: computed.clone(),
                    })
                    .collect();
                targets.sort();
                for target in targets {
                    if self.nodes >= MAX_NODES {
                        break;
                    }
                    let child = self.subject(Subject::Set(target), depth - 1);
                    tree.children.push(child);
                }
                tree
            }
            Rewrite::Not { child } => {
                let mut tree = node(NodeType::Exclusion, None);
                let mut sub = self.operand(set, child, depth);
                if matches!(**child, Rewrite::Union { .. } | Rewrite::Intersection { .. }) {
                    sub.subject = None;
                }
                tree.children.push(sub);
                tree
            }
        }
    }
}
