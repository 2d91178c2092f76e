//! Expand trees: shape, depth, cycles and rewrites.

use tessera_opl::Schema;
use tessera_permission::engine::{ExpandNode, NodeType, expand};
use tessera_permission::tuple::{Subject, SubjectSet};

use super::fixtures::*;

/// A compact rendering: `type(subject)[children]`.
fn render(n: &ExpandNode) -> String {
    let subject = n.subject.as_ref().map(|s| s.to_string()).unwrap_or_default();
    let t = if n.children.is_empty() && n.node_type == NodeType::Union { "leaf" } else { n.node_type.as_str() };
    if n.children.is_empty() {
        format!("{t}({subject})")
    } else {
        format!("{t}({subject})[{}]", n.children.iter().map(render).collect::<Vec<_>>().join(", "))
    }
}

fn set(s: &str) -> SubjectSet {
    match s.parse::<Subject>().unwrap() {
        Subject::Set(set) => set,
        Subject::Id(_) => panic!("not a set"),
    }
}

#[test]
fn direct_trees_with_depth_and_cycles() {
    let plain = Schema::from_names(["doc", "group"]);
    let idx = index(&[
        "doc:a#viewer@alice",
        "doc:a#viewer@group:eng#member",
        "group:eng#member@bob",
        "group:eng#member@group:ops#member",
        "group:ops#member@group:eng#member",
    ]);
    assert_eq!(
        render(&expand(&idx, &plain, &set("doc:a#viewer"), 5)),
        "union(doc:a#viewer)[leaf(alice), union(group:eng#member)[leaf(bob), union(group:ops#member)[leaf(group:eng#member)]]]"
    );
    // Depth 2: the root and its subjects; subject sets are not expanded further.
    assert_eq!(
        render(&expand(&idx, &plain, &set("doc:a#viewer"), 2)),
        "union(doc:a#viewer)[leaf(alice), leaf(group:eng#member)]"
    );
    assert_eq!(render(&expand(&idx, &plain, &set("doc:a#viewer"), 1)), "leaf(doc:a#viewer)");
    assert_eq!(render(&expand(&idx, &plain, &set("doc:none#viewer"), 5)), "leaf(doc:none#viewer)");
}

#[test]
fn rewrites_expand_to_union_intersection_and_exclusion() {
    let s = drive();
    let idx = index(&[
        "Doc:d1#owners@olga",
        "Doc:d1#editors@ed",
        "Doc:d1#banned@vic",
        "Doc:d1#viewers@vic",
        "Doc:d1#parents@Folder:f1",
        "Folder:f1#viewers@fred",
    ]);
    assert_eq!(
        render(&expand(&idx, &s, &set("Doc:d1#view_unless_banned"), 5)),
        "intersection(Doc:d1#view_unless_banned)[union(Doc:d1#view)[union(Doc:d1#viewers)[leaf(vic)], \
         union(Doc:d1#edit)[union(Doc:d1#owners)[leaf(olga)], union(Doc:d1#editors)[leaf(ed)]], \
         union(Doc:d1#parents)[union(Folder:f1#view)[union(Folder:f1#viewers)[leaf(fred)], leaf(Folder:f1#owners), leaf(Folder:f1#parents)]]], \
         exclusion()[union(Doc:d1#banned)[leaf(vic)]]]"
    );
}
