//! The check: is `subject` in `namespace:object#relation`?

use std::collections::HashSet;

use tessera_opl::{Rewrite, Schema};

use super::{RelationKind, relation_kind};
use crate::index::{Node, ProjectIndex, SubjectRef};
use crate::tuple::RelationTuple;

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Member,
    NotMember,
    /// The depth budget ran out, or a width limit cut the search short, before an answer was found.
    Unknown,
}

/// A check that cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("relation \"{relation}\" does not exist in namespace \"{namespace}\"")]
    UnknownRelation { namespace: String, relation: String },
}

/// Bounds on one check.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Subject sets expanded per step at most (Keto's `max_read_width`).
    pub max_width: usize,
    /// Evaluation steps per check at most; beyond it the answer is unknown (protects against huge graphs).
    pub max_steps: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_width: 100, max_steps: 100_000 }
    }
}

/// Accumulates a union: the first member decides; otherwise unknown if any was unknown.
#[derive(Default)]
struct Union {
    unknown: bool,
}

impl Union {
    /// Returns true when the union is decided.
    fn add(&mut self, m: Membership) -> bool {
        match m {
            Membership::Member => true,
            Membership::Unknown => {
                self.unknown = true;
                false
            }
            Membership::NotMember => false,
        }
    }

    fn result(&self) -> Membership {
        if self.unknown { Membership::Unknown } else { Membership::NotMember }
    }
}

/// A `namespace:object#relation` being evaluated; strings borrowed from the request, index or schema.
#[derive(Debug, Clone, Copy)]
struct Target<'a> {
    namespace: &'a str,
    object: &'a str,
    relation: &'a str,
}

/// Evaluates checks over one project's index and schema.
pub struct Checker<'a> {
    index: &'a ProjectIndex,
    schema: &'a Schema,
    limits: Limits,
    subject: Option<SubjectRef>,
    visited: HashSet<Node>,
    steps: usize,
}

impl<'a> Checker<'a> {
    /// Checks `tuple` (its subject is the one asked about) with `depth` levels of indirection.
    pub fn check(
        index: &'a ProjectIndex,
        schema: &'a Schema,
        tuple: &'a RelationTuple,
        depth: i32,
        limits: Limits,
    ) -> Result<Membership, CheckError> {
        let mut checker = Checker {
            index,
            schema,
            limits,
            subject: index.subject_ref(&tuple.subject),
            visited: HashSet::new(),
            steps: 0,
        };
        let target = Target { namespace: &tuple.namespace, object: &tuple.object, relation: &tuple.relation };
        checker.is_allowed(target, depth, false)
    }

    fn node(&self, t: Target<'_>) -> Option<Node> {
        self.index.node(t.namespace, t.object, t.relation)
    }

    fn target(&self, n: Node) -> Target<'a> {
        Target {
            namespace: self.index.resolve(n.namespace),
            object: self.index.resolve(n.object),
            relation: self.index.resolve(n.relation),
        }
    }

    fn is_allowed(&mut self, t: Target<'a>, depth: i32, skip_direct: bool) -> Result<Membership, CheckError> {
        if depth <= 0 {
            return Ok(Membership::Unknown);
        }
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Ok(Membership::Unknown);
        }
        let kind = relation_kind(self.schema, t.namespace, t.relation)?;
        let mut union = Union::default();
        if let Some(RelationKind::Permit(rewrite)) = kind
            && union.add(self.rewrite(rewrite, t, depth)?)
        {
            return Ok(Membership::Member);
        }
        if !skip_direct && union.add(self.direct(t, depth)) {
            return Ok(Membership::Member);
        }
        if union.add(self.expand_subject(t, depth)?) {
            return Ok(Membership::Member);
        }
        Ok(union.result())
    }

    /// Whether the exact tuple exists.
    fn direct(&self, t: Target<'_>, depth: i32) -> Membership {
        if depth <= 0 {
            return Membership::Unknown;
        }
        match (self.node(t), self.subject) {
            (Some(node), Some(subject)) if self.index.contains(node, subject) => Membership::Member,
            _ => Membership::NotMember,
        }
    }

    /// Follows the subject sets `t` holds: found directly in one of them, or recursively through them.
    fn expand_subject(&mut self, t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        if depth <= 0 {
            return Ok(Membership::Unknown);
        }
        let Some(node) = self.node(t) else { return Ok(Membership::NotMember) };
        let sets = self.index.subject_sets(node);
        if sets.is_empty() {
            return Ok(Membership::NotMember);
        }
        if let Some(subject) = self.subject
            && sets.iter().any(|s| self.index.contains(*s, subject))
        {
            return Ok(Membership::Member);
        }
        if depth <= 1 {
            return Ok(Membership::Unknown);
        }
        let mut union = Union::default();
        let sets = if sets.len() > self.limits.max_width {
            union.unknown = true;
            &sets[..self.limits.max_width]
        } else {
            sets
        };
        for set in sets {
            if !self.visited.insert(*set) {
                continue;
            }
            let target = self.target(*set);
            if union.add(self.is_allowed(target, depth - 1, true)?) {
                return Ok(Membership::Member);
            }
        }
        Ok(union.result())
    }

    fn rewrite(&mut self, rewrite: &'a Rewrite, t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        if depth <= 0 {
            return Ok(Membership::Unknown);
        }
        match rewrite {
            Rewrite::Union { children } => self.union(children, t, depth),
            Rewrite::Intersection { children } => self.intersection(children, t, depth),
            single => self.union(std::slice::from_ref(single), t, depth),
        }
    }

    /// `||`: computed relations are first looked up directly all at once, then each is checked one level down.
    fn union(&mut self, children: &'a [Rewrite], t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        let mut union = Union::default();
        let computed: Vec<&'a str> = children
            .iter()
            .filter_map(|c| match c {
                Rewrite::ComputedSubjectSet { relation } => Some(relation.as_str()),
                _ => None,
            })
            .collect();
        if !computed.is_empty() {
            for relation in &computed {
                relation_kind(self.schema, t.namespace, relation)?;
                if self.direct(Target { relation, ..t }, depth) == Membership::Member {
                    return Ok(Membership::Member);
                }
            }
            for relation in &computed {
                if union.add(self.is_allowed(Target { relation, ..t }, depth - 1, true)?) {
                    return Ok(Membership::Member);
                }
            }
        }
        for child in children {
            let m = match child {
                Rewrite::ComputedSubjectSet { .. } => continue,
                Rewrite::TupleToSubjectSet { relation, computed } => self.traverse(relation, computed, t, depth)?,
                Rewrite::Union { .. } | Rewrite::Intersection { .. } => self.rewrite(child, t, depth - 1)?,
                Rewrite::Not { child } => self.invert(child, t, depth)?,
            };
            if union.add(m) {
                return Ok(Membership::Member);
            }
        }
        Ok(union.result())
    }

    /// `&&`: every child must hold; the first non-member decides.
    fn intersection(&mut self, children: &'a [Rewrite], t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        if children.is_empty() {
            return Ok(Membership::NotMember);
        }
        let mut unknown = false;
        for child in children {
            match self.child(child, t, depth)? {
                Membership::NotMember => return Ok(Membership::NotMember),
                Membership::Unknown => unknown = true,
                Membership::Member => {}
            }
        }
        Ok(if unknown { Membership::Unknown } else { Membership::Member })
    }

    /// One operand outside the `||` shortcut.
    fn child(&mut self, child: &'a Rewrite, t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        match child {
            Rewrite::ComputedSubjectSet { relation } => self.is_allowed(Target { relation, ..t }, depth, false),
            Rewrite::TupleToSubjectSet { relation, computed } => self.traverse(relation, computed, t, depth),
            Rewrite::Union { .. } | Rewrite::Intersection { .. } => self.rewrite(child, t, depth - 1),
            Rewrite::Not { child } => self.invert(child, t, depth),
        }
    }

    /// `!`: swaps member and not member; unknown stays unknown.
    fn invert(&mut self, child: &'a Rewrite, t: Target<'a>, depth: i32) -> Result<Membership, CheckError> {
        Ok(match self.child(child, t, depth)? {
            Membership::Member => Membership::NotMember,
            Membership::NotMember => Membership::Member,
            Membership::Unknown => Membership::Unknown,
        })
    }

    /// `this.related.R.traverse((x) => x.…C…)`: for every subject set in `R`, relation or permit `C` of its object.
    fn traverse(
        &mut self,
        relation: &'a str,
        computed: &'a str,
        t: Target<'a>,
        depth: i32,
    ) -> Result<Membership, CheckError> {
        if depth <= 0 {
            return Ok(Membership::Unknown);
        }
        let Some(node) = self.node(Target { relation, ..t }) else { return Ok(Membership::NotMember) };
        let mut union = Union::default();
        for set in self.index.subject_sets(node) {
            let target = Target {
                namespace: self.index.resolve(set.namespace),
                object: self.index.resolve(set.object),
                relation: computed,
            };
            if union.add(self.is_allowed(target, depth - 1, false)?) {
                return Ok(Membership::Member);
            }
        }
        Ok(union.result())
    }
}
