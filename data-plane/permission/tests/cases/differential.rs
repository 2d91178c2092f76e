//! Differential test: random relationship graphs and random checks, the engine (interned index, short cuts)
//! against a reference evaluator written plainly here (a graph search over a list of tuples, no index).
//! The reference follows the same written semantics (three values, Keto's depth accounting, the width limit,
//! visited subject sets), so any disagreement is a bug in one of them.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tessera_opl::{Rewrite, Schema};
use tessera_permission::engine::{Limits, Membership};
use tessera_permission::tuple::{RelationTuple, Subject, SubjectSet};

use super::fixtures::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum M {
    Yes,
    No,
    Maybe,
}

fn or_all(results: impl IntoIterator<Item = M>) -> M {
    let mut maybe = false;
    for r in results {
        match r {
            M::Yes => return M::Yes,
            M::Maybe => maybe = true,
            M::No => {}
        }
    }
    if maybe { M::Maybe } else { M::No }
}

struct Reference<'a> {
    tuples: &'a [RelationTuple],
    schema: &'a Schema,
    width: usize,
    seen: HashSet<(String, String, String)>,
}

impl Reference<'_> {
    fn has(&self, ns: &str, obj: &str, rel: &str, subject: &Subject) -> bool {
        self.tuples.iter().any(|t| t.namespace == ns && t.object == obj && t.relation == rel && &t.subject == subject)
    }

    fn sets_of(&self, ns: &str, obj: &str, rel: &str) -> Vec<SubjectSet> {
        self.tuples
            .iter()
            .filter(|t| t.namespace == ns && t.object == obj && t.relation == rel)
            .filter_map(|t| match &t.subject {
                Subject::Set(s) => Some(s.clone()),
                Subject::Id(_) => None,
            })
            .collect()
    }

    fn permit(&self, ns: &str, rel: &str) -> Option<Rewrite> {
        self.schema.namespace(ns)?.permit(rel).map(|p| p.rewrite.clone())
    }

    fn allowed(&mut self, ns: &str, obj: &str, rel: &str, subject: &Subject, depth: i32, skip_direct: bool) -> M {
        if depth <= 0 {
            return M::Maybe;
        }
        let mut parts = Vec::new();
        if let Some(rw) = self.permit(ns, rel) {
            let r = self.rewrite(&rw, ns, obj, subject, depth);
            if r == M::Yes {
                return M::Yes;
            }
            parts.push(r);
        }
        if !skip_direct {
            if self.has(ns, obj, rel, subject) {
                return M::Yes;
            }
            parts.push(M::No);
        }
        parts.push(self.through_sets(ns, obj, rel, subject, depth));
        or_all(parts)
    }

    fn through_sets(&mut self, ns: &str, obj: &str, rel: &str, subject: &Subject, depth: i32) -> M {
        let sets = self.sets_of(ns, obj, rel);
        if sets.is_empty() {
            return M::No;
        }
        if sets.iter().any(|s| self.has(&s.namespace, &s.object, &s.relation, subject)) {
            return M::Yes;
        }
        if depth <= 1 {
            return M::Maybe;
        }
        let truncated = sets.len() > self.width;
        let mut results = vec![if truncated { M::Maybe } else { M::No }];
        for s in sets.into_iter().take(self.width) {
            if !self.seen.insert((s.namespace.clone(), s.object.clone(), s.relation.clone())) {
                continue;
            }
            let r = self.allowed(&s.namespace, &s.object, &s.relation, subject, depth - 1, true);
            if r == M::Yes {
                return M::Yes;
            }
            results.push(r);
        }
        or_all(results)
    }

    fn rewrite(&mut self, rw: &Rewrite, ns: &str, obj: &str, subject: &Subject, depth: i32) -> M {
        if depth <= 0 {
            return M::Maybe;
        }
        match rw {
            Rewrite::Intersection { children } => {
                if children.is_empty() {
                    return M::No;
                }
                let mut maybe = false;
                for c in children {
                    match self.operand(c, ns, obj, subject, depth) {
                        M::No => return M::No,
                        M::Maybe => maybe = true,
                        M::Yes => {}
                    }
                }
                if maybe { M::Maybe } else { M::Yes }
            }
            Rewrite::Union { children } => self.any_of(children, ns, obj, subject, depth),
            single => self.any_of(std::slice::from_ref(single), ns, obj, subject, depth),
        }
    }

    fn any_of(&mut self, children: &[Rewrite], ns: &str, obj: &str, subject: &Subject, depth: i32) -> M {
        let computed: Vec<String> = children
            .iter()
            .filter_map(
                |c| if let Rewrite::ComputedSubjectSet { relation } = c { Some(relation.clone()) } else { None },
            )
            .collect();
        if computed.iter().any(|r| self.has(ns, obj, r, subject)) {
            return M::Yes;
        }
        let mut results = Vec::new();
        for r in &computed {
            let m = self.allowed(ns, obj, r, subject, depth - 1, true);
            if m == M::Yes {
                return M::Yes;
            }
            results.push(m);
        }
        for c in children {
            let m = match c {
                Rewrite::ComputedSubjectSet { .. } => continue,
                Rewrite::TupleToSubjectSet { relation, computed } => {
                    self.through(relation, computed, ns, obj, subject, depth)
                }
                Rewrite::Union { .. } | Rewrite::Intersection { .. } => self.rewrite(c, ns, obj, subject, depth - 1),
                Rewrite::Not { child } => flip(self.operand(child, ns, obj, subject, depth)),
            };
            if m == M::Yes {
                return M::Yes;
            }
            results.push(m);
        }
        or_all(results)
    }

    fn operand(&mut self, c: &Rewrite, ns: &str, obj: &str, subject: &Subject, depth: i32) -> M {
        match c {
            Rewrite::ComputedSubjectSet { relation } => self.allowed(ns, obj, relation, subject, depth, false),
            Rewrite::TupleToSubjectSet { relation, computed } => {
                self.through(relation, computed, ns, obj, subject, depth)
            }
            Rewrite::Union { .. } | Rewrite::Intersection { .. } => self.rewrite(c, ns, obj, subject, depth - 1),
            Rewrite::Not { child } => flip(self.operand(child, ns, obj, subject, depth)),
        }
    }

    fn through(&mut self, relation: &str, computed: &str, ns: &str, obj: &str, subject: &Subject, depth: i32) -> M {
        if depth <= 0 {
            return M::Maybe;
        }
        let mut results = Vec::new();
        for s in self.sets_of(ns, obj, relation) {
            let m = self.allowed(&s.namespace, &s.object, computed, subject, depth - 1, false);
            if m == M::Yes {
                return M::Yes;
            }
            results.push(m);
        }
        or_all(results)
    }
}

fn flip(m: M) -> M {
    match m {
        M::Yes => M::No,
        M::No => M::Yes,
        M::Maybe => M::Maybe,
    }
}

fn random_subject(rng: &mut StdRng) -> Subject {
    match rng.random_range(0..10) {
        0..5 => Subject::Id(format!("u{}", rng.random_range(0..8))),
        5..8 => Subject::Set(SubjectSet {
            namespace: "Group".into(),
            object: format!("g{}", rng.random_range(0..6)),
            relation: "members".into(),
        }),
        _ => Subject::Set(SubjectSet {
            namespace: "Folder".into(),
            object: format!("f{}", rng.random_range(0..5)),
            relation: "viewers".into(),
        }),
    }
}

fn random_tuple(rng: &mut StdRng) -> RelationTuple {
    let (ns, rels, objects): (&str, &[&str], usize) = match rng.random_range(0..3) {
        0 => ("Group", &["members"], 6),
        1 => ("Folder", &["parents", "owners", "viewers"], 5),
        _ => ("Doc", &["parents", "owners", "editors", "viewers", "banned"], 5),
    };
    let relation = rels[rng.random_range(0..rels.len())];
    let object = format!("{}{}", &ns[..1].to_lowercase(), rng.random_range(0..objects));
    let subject = if relation == "parents" {
        Subject::Set(SubjectSet {
            namespace: "Folder".into(),
            object: format!("f{}", rng.random_range(0..5)),
            relation: String::new(),
        })
    } else {
        random_subject(rng)
    };
    RelationTuple { namespace: ns.into(), object, relation: relation.into(), subject }
}

#[test]
fn engine_agrees_with_the_reference_on_random_graphs() {
    let schema = drive();
    let width = 3; // small, so truncation is exercised
    let mut rng = StdRng::seed_from_u64(0x7e55e7a);
    let mut cases = 0;
    let mut outcomes = [0usize; 3];
    for _graph in 0..200 {
        let mut tuples: Vec<RelationTuple> = Vec::new();
        for _ in 0..rng.random_range(5..60) {
            let t = random_tuple(&mut rng);
            if !tuples.contains(&t) {
                tuples.push(t);
            }
        }
        let mut idx = tessera_permission::index::ProjectIndex::new();
        for t in &tuples {
            idx.insert(t);
        }
        for _ in 0..50 {
            let (ns, rels): (&str, &[&str]) = match rng.random_range(0..3) {
                0 => ("Group", &["members"]),
                1 => ("Folder", &["view", "viewers", "owners"]),
                _ => ("Doc", &["view", "edit", "view_unless_banned", "owner_and_editor", "not_banned", "viewers"]),
            };
            let query = RelationTuple {
                namespace: ns.into(),
                object: format!("{}{}", &ns[..1].to_lowercase(), rng.random_range(0..5)),
                relation: rels[rng.random_range(0..rels.len())].into(),
                subject: random_subject(&mut rng),
            };
            let depth = rng.random_range(1..7);
            let ours = tessera_permission::engine::Checker::check(
                &idx,
                &schema,
                &query,
                depth,
                Limits { max_width: width, max_steps: usize::MAX },
            )
            .unwrap();
            let mut reference = Reference { tuples: &tuples, schema: &schema, width, seen: HashSet::new() };
            let theirs =
                reference.allowed(&query.namespace, &query.object, &query.relation, &query.subject, depth, false);
            let theirs = match theirs {
                M::Yes => Membership::Member,
                M::No => Membership::NotMember,
                M::Maybe => Membership::Unknown,
            };
            assert_eq!(ours, theirs, "{query} at depth {depth} over {} tuples: {tuples:#?}", tuples.len());
            outcomes[ours as usize] += 1;
            cases += 1;
        }
    }
    assert_eq!(cases, 10_000);
    // The random graphs must exercise every outcome, or the comparison proves little.
    assert!(outcomes.iter().all(|n| *n > 100), "outcomes {outcomes:?}");
}
