//! Check semantics, case by case. Where the answer is Keto's by design, the comment names the Keto behaviour.

use tessera_opl::Schema;
use tessera_permission::engine::Membership::{self, Member, NotMember, Unknown};

use super::fixtures::*;

fn expect(schema: &Schema, tuples: &[&str], cases: &[(&str, i32, Membership)]) {
    let idx = index(tuples);
    for (query, depth, want) in cases {
        let got = check(&idx, schema, query, *depth).unwrap();
        assert_eq!(got, *want, "{query} at depth {depth}");
    }
}

#[test]
fn direct_tuples_and_empty_ids() {
    let plain = Schema::from_names(["doc"]);
    expect(
        &plain,
        &["doc:readme#viewer@alice", "doc:#viewer@", "doc:x#@bob"],
        &[
            ("doc:readme#viewer@alice", 5, Member),
            ("doc:readme#viewer@bob", 5, NotMember),
            ("doc:readme#owner@alice", 5, NotMember),
            // Keto accepts empty strings as ids everywhere.
            ("doc:#viewer@", 5, Member),
            ("doc:x#@bob", 5, Member),
            // A depth of zero or less is clamped by the caller; here it means no budget at all.
            ("doc:readme#viewer@alice", 0, Unknown),
        ],
    );
}

#[test]
fn subject_sets_nest_up_to_the_depth_budget() {
    let plain = Schema::from_names(["doc", "group"]);
    // doc:a#viewer -> g1 -> g2 -> g3 -> g4 -> g5 -> g6 (alice is a member of g_n).
    let mut tuples = vec!["doc:a#viewer@group:g1#member".to_owned()];
    for i in 1..6 {
        tuples.push(format!("group:g{i}#member@group:g{}#member", i + 1));
    }
    for (n, user) in [(1, "u1"), (2, "u2"), (3, "u3"), (4, "u4"), (5, "u5"), (6, "u6")] {
        tuples.push(format!("group:g{n}#member@{user}"));
    }
    let refs: Vec<&str> = tuples.iter().map(String::as_str).collect();
    // Keto's expand step finds a member one level below the current set before it spends depth, so a
    // budget of d reaches members of the d-th nested set.
    expect(
        &plain,
        &refs,
        &[
            ("doc:a#viewer@u1", 1, Member),
            ("doc:a#viewer@u2", 1, Unknown),
            ("doc:a#viewer@u2", 2, Member),
            ("doc:a#viewer@u5", 5, Member),
            ("doc:a#viewer@u6", 5, Unknown),
            ("doc:a#viewer@u6", 6, Member),
            ("doc:a#viewer@nobody", 10, NotMember),
            // The requested subject may itself be a subject set.
            ("doc:a#viewer@group:g3#member", 5, Member),
            // A subject that is nowhere: unknown while the chain is deeper than the budget, no once it is not.
            ("doc:a#viewer@group:g9#member", 5, Unknown),
            ("doc:a#viewer@group:g9#member", 10, NotMember),
        ],
    );
}

#[test]
fn cycles_terminate() {
    let plain = Schema::from_names(["group"]);
    expect(
        &plain,
        &[
            "group:a#member@group:b#member",
            "group:b#member@group:c#member",
            "group:c#member@group:a#member",
            "group:c#member@carol",
        ],
        &[
            ("group:a#member@carol", 5, Member),
            ("group:b#member@carol", 100, Member),
            // Keto tracks visited subject sets per check, so a cycle without the subject ends as not member.
            ("group:a#member@dave", 100, NotMember),
            ("group:a#member@dave", 2, Unknown),
        ],
    );
}

#[test]
fn wide_fan_out_and_the_width_limit() {
    let plain = Schema::from_names(["doc", "group"]);
    let mut tuples = Vec::new();
    for i in 0..300 {
        tuples.push(format!("doc:wide#viewer@group:g{i}#member"));
        tuples.push(format!("group:g{i}#member@user{i}"));
        tuples.push(format!("group:g{i}#member@group:h{i}#member"));
        tuples.push(format!("group:h{i}#member@deep{i}"));
    }
    let refs: Vec<&str> = tuples.iter().map(String::as_str).collect();
    expect(
        &plain,
        &refs,
        &[
            // Direct members of every subject set are seen, however many there are.
            ("doc:wide#viewer@user0", 5, Member),
            ("doc:wide#viewer@user299", 5, Member),
            // Going one level further, only the first 100 subject sets are followed (Keto's max_read_width);
            // beyond them the answer is unknown, never a false "no".
            ("doc:wide#viewer@deep10", 5, Member),
            ("doc:wide#viewer@deep250", 5, Unknown),
            ("doc:wide#viewer@stranger", 5, Unknown),
        ],
    );
}

#[test]
fn opl_operators_alone_and_combined() {
    let s = drive();
    let tuples = [
        "Doc:d1#owners@olga",
        "Doc:d1#editors@ed",
        "Doc:d1#editors@olga",
        "Doc:d1#viewers@vic",
        "Doc:d1#viewers@Group:eng#members",
        "Group:eng#members@gina",
        "Doc:d1#banned@vic",
        "Doc:d1#parents@Folder:f1",
        "Folder:f1#viewers@fred",
        "Folder:f1#parents@Folder:root",
        "Folder:root#owners@root_owner",
    ];
    expect(
        &s,
        &tuples,
        &[
            // ||
            ("Doc:d1#edit@olga", 5, Member),
            ("Doc:d1#edit@ed", 5, Member),
            ("Doc:d1#edit@vic", 5, NotMember),
            // computed permit through another permit (this.permits.edit)
            ("Doc:d1#view@ed", 5, Member),
            // subject set inside a related relation
            ("Doc:d1#view@gina", 5, Member),
            // traverse to another namespace's permit, two folders up
            ("Doc:d1#view@fred", 5, Member),
            ("Doc:d1#view@root_owner", 5, Member),
            ("Doc:d1#view@root_owner", 2, Unknown),
            ("Doc:d1#view@stranger", 5, NotMember),
            // &&
            ("Doc:d1#owner_and_editor@olga", 5, Member),
            ("Doc:d1#owner_and_editor@ed", 5, NotMember),
            // && with !
            ("Doc:d1#view_unless_banned@vic", 5, NotMember),
            ("Doc:d1#view_unless_banned@gina", 5, Member),
            // ! alone: true for anyone not banned, even strangers
            ("Doc:d1#not_banned@stranger", 5, Member),
            ("Doc:d1#not_banned@vic", 5, NotMember),
            // running out of depth under ! never grants
            ("Doc:d1#not_banned@stranger", 0, Unknown),
        ],
    );
}

#[test]
fn unknown_namespaces_and_relations() {
    let s = drive();
    let idx = index(&["Doc:d1#viewers@vic"]);
    // An OPL namespace without the relation: Keto answers 400 "relation ... does not exist".
    let err = check(&idx, &s, "Doc:d1#nonsense@vic", 5).unwrap_err();
    assert!(err.to_string().contains("nonsense"), "{err}");
    // A namespace the schema does not know: no definitions apply, only tuples (the API answers false before this).
    assert_eq!(check(&idx, &s, "Nope:x#y@vic", 5).unwrap(), NotMember);
}
