//! Check and expand: pure functions over a project's [`ProjectIndex`](crate::index::ProjectIndex) and compiled
//! [`Schema`](tessera_opl::Schema). No I/O happens here; the service around them loads indexes and schemas.
//!
//! The semantics are Keto's (in its default, non-strict mode), so answers match Ory Network's:
//! a check is three-valued (member, not member, unknown), "unknown" arising when the depth budget runs out
//! or a width limit truncates; only "member" allows. Unions are decided by the first member, intersections by
//! the first non-member; `!` swaps member and not member and leaves unknown alone, so running out of depth
//! can never grant access.

pub mod check;
pub mod expand;

pub use check::{CheckError, Checker, Limits, Membership};
pub use expand::{ExpandNode, NodeType, expand};

/// How a relation name of a namespace is defined.
#[derive(Debug, Clone, Copy)]
pub enum RelationKind<'s> {
    /// Declared under `related` (or no OPL at all): holds tuples.
    Related,
    /// Declared under `permits`: computed by its rewrite.
    Permit(&'s tessera_opl::Rewrite),
}

/// Looks a relation up in the schema. `Ok(None)` when the namespace is unknown, has no relation
/// definitions (plain namespaces) or the relation is empty; an error when an OPL namespace lacks it.
pub fn relation_kind<'s>(
    schema: &'s tessera_opl::Schema,
    namespace: &str,
    relation: &str,
) -> Result<Option<RelationKind<'s>>, CheckError> {
    if relation.is_empty() {
        return Ok(None);
    }
    let Some(ns) = schema.namespace(namespace) else { return Ok(None) };
    if ns.relations.is_empty() && ns.permits.is_empty() {
        return Ok(None);
    }
    if ns.relation(relation).is_some() {
        return Ok(Some(RelationKind::Related));
    }
    if let Some(p) = ns.permit(relation) {
        return Ok(Some(RelationKind::Permit(&p.rewrite)));
    }
    Err(CheckError::UnknownRelation { namespace: namespace.to_owned(), relation: relation.to_owned() })
}
