//! Schemas and relationships for the table tests, written the way people write them.

use tessera_opl::{Namespace, Permit, Relation, Rewrite, Schema, SubjectType};
use tessera_permission::engine::{CheckError, Checker, Limits, Membership};
use tessera_permission::index::ProjectIndex;
use tessera_permission::tuple::RelationTuple;

pub fn computed(r: &str) -> Rewrite {
    Rewrite::ComputedSubjectSet { relation: r.into() }
}

pub fn traverse(r: &str, c: &str) -> Rewrite {
    Rewrite::TupleToSubjectSet { relation: r.into(), computed: c.into() }
}

pub fn or(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Union { children }
}

pub fn and(children: Vec<Rewrite>) -> Rewrite {
    Rewrite::Intersection { children }
}

pub fn not(child: Rewrite) -> Rewrite {
    Rewrite::Not { child: Box::new(child) }
}

pub fn ns(name: &str, relations: &[&str], permits: Vec<(&str, Rewrite)>) -> Namespace {
    Namespace {
        name: name.into(),
        relations: relations
            .iter()
            .map(|r| Relation { name: (*r).into(), types: vec![SubjectType::Namespace { namespace: "User".into() }] })
            .collect(),
        permits: permits.into_iter().map(|(n, rewrite)| Permit { name: n.into(), rewrite }).collect(),
    }
}

/// The schema most cases use: users, nested groups, folders and documents with inherited permissions.
pub fn drive() -> Schema {
    Schema {
        namespaces: vec![
            ns("User", &[], vec![]),
            ns("Group", &["members"], vec![]),
            ns(
                "Folder",
                &["parents", "owners", "viewers"],
                vec![("view", or(vec![computed("viewers"), computed("owners"), traverse("parents", "view")]))],
            ),
            ns(
                "Doc",
                &["parents", "owners", "editors", "viewers", "banned"],
                vec![
                    ("edit", or(vec![computed("owners"), computed("editors")])),
                    ("view", or(vec![computed("viewers"), computed("edit"), traverse("parents", "view")])),
                    ("view_unless_banned", and(vec![computed("view"), not(computed("banned"))])),
                    ("owner_and_editor", and(vec![computed("owners"), computed("editors")])),
                    ("not_banned", not(computed("banned"))),
                ],
            ),
        ],
    }
}

pub fn index(tuples: &[&str]) -> ProjectIndex {
    let mut idx = ProjectIndex::new();
    for t in tuples {
        idx.insert(&t.parse::<RelationTuple>().unwrap());
    }
    idx
}

pub fn check(idx: &ProjectIndex, schema: &Schema, query: &str, depth: i32) -> Result<Membership, CheckError> {
    let tuple: RelationTuple = query.parse().unwrap();
    Checker::check(idx, schema, &tuple, depth, Limits::default())
}
