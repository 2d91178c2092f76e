//! Table tests of the OPL parser against Keto's behaviour.
//!
//! Every expected schema and every error position below was also checked against Keto's own parser
//! (ory/keto `schema/`), run on the same input; each case names the Keto test or code it mirrors.
//! Keto's positions: see [`tessera_opl::Position`].

mod deviations;
mod invalid;
mod valid;

use tessera_opl::{Namespace, Permit, Relation, Rewrite, Schema, SubjectType, check_syntax, parse};

// ---------------------------------------------------------------------------------------------------------
// Builders.

pub(crate) fn ty(ns: &str) -> SubjectType {
    SubjectType::Namespace { namespace: ns.into() }
}
pub(crate) fn set(ns: &str, rel: &str) -> SubjectType {
    SubjectType::SubjectSet { namespace: ns.into(), relation: rel.into() }
}
pub(crate) fn rel(name: &str, types: Vec<SubjectType>) -> Relation {
    Relation { name: name.into(), types }
}
pub(crate) fn permit(name: &str, rewrite: Rewrite) -> Permit {
    Permit { name: name.into(), rewrite }
}
pub(crate) fn ns(name: &str, relations: Vec<Relation>, permits: Vec<Permit>) -> Namespace {
    Namespace { name: name.into(), relations, permits }
}
pub(crate) fn or(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Union { children }
}
pub(crate) fn and(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Intersection { children }
}
pub(crate) fn not(child: Rewrite) -> Rewrite {
    Rewrite::Not { child: Box::new(child) }
}
pub(crate) fn cs(relation: &str) -> Rewrite {
    Rewrite::ComputedSubjectSet { relation: relation.into() }
}
pub(crate) fn ttu(relation: &str, computed: &str) -> Rewrite {
    Rewrite::TupleToSubjectSet { relation: relation.into(), computed: computed.into() }
}

#[track_caller]
pub(crate) fn parse_ok(src: &str) -> Schema {
    match parse(src) {
        Ok(s) => {
            assert!(check_syntax(src).is_empty());
            s
        }
        Err(errors) => panic!("unexpected errors for\n{src}\n{errors:#?}"),
    }
}

pub(crate) const A: &str = "this.related.a.includes(ctx.subject)";
pub(crate) const B: &str = "this.related.b.includes(ctx.subject)";
pub(crate) const C: &str = "this.related.c.includes(ctx.subject)";
pub(crate) const D: &str = "this.related.d.includes(ctx.subject)";

pub(crate) fn operator_doc(expr: &str) -> String {
    let expr = expr.replace('A', A).replace('B', B).replace('C', C).replace('D', D);
    format!(
        "class User implements Namespace {{}}\n\
         class Doc implements Namespace {{\n  related: {{ a: User[]; b: User[]; c: User[]; d: User[]; parents: Doc[] }}\n  \
         permits = {{\n    p: (ctx: Context): boolean => {expr},\n    q: (ctx) => this.permits.p(ctx),\n  }}\n}}\n"
    )
}
