//! Deterministic datasets for benchmarks.

use tessera_permission::tuple::{RelationTuple, Subject, SubjectSet};

/// The OPL the permission datasets use: users, nested groups, folder chains and documents.
pub const DRIVE_OPL: &str = r#"
class User implements Namespace {}

class Group implements Namespace {
  related: {
    members: (User | SubjectSet<Group, "members">)[]
  }
}

class Folder implements Namespace {
  related: {
    parents: Folder[]
    viewers: (User | SubjectSet<Group, "members">)[]
  }
  permits = {
    view: (ctx: Context): boolean => this.related.viewers.includes(ctx.subject) || this.related.parents.traverse((p) => p.permits.view(ctx)),
  }
}

class Doc implements Namespace {
  related: {
    parents: Folder[]
    owners: User[]
    viewers: (User | SubjectSet<Group, "members">)[]
    banned: User[]
  }
  permits = {
    edit: (ctx: Context): boolean => this.related.owners.includes(ctx.subject),
    view: (ctx: Context): boolean =>
      (this.related.viewers.includes(ctx.subject) || this.permits.edit(ctx) || this.related.parents.traverse((p) => p.permits.view(ctx))) &&
      !this.related.banned.includes(ctx.subject),
  }
}
"#;

const USERS: usize = 100_000;
const GROUP_LEVELS: usize = 5;
const GROUPS_PER_LEVEL: usize = 4_000;
const FOLDERS: usize = 40_000;
const FOLDER_CHAIN: usize = 5;
const DOCS: usize = 200_000;

fn id(s: String) -> Subject {
    Subject::Id(s)
}

fn set(namespace: &str, object: String, relation: &str) -> Subject {
    Subject::Set(SubjectSet { namespace: namespace.into(), object, relation: relation.into() })
}

fn tuple(namespace: &str, object: String, relation: &str, subject: Subject) -> RelationTuple {
    RelationTuple { namespace: namespace.into(), object, relation: relation.into(), subject }
}

fn group(level: usize, i: usize) -> String {
    format!("g{level}_{i}")
}

/// One million relationships: 100k users; 20k groups nested 5 deep; 40k folders in chains of 5 under groups;
/// 200k documents in those folders, each with an owner and viewers, direct and through groups.
pub fn drive_tuples() -> Vec<RelationTuple> {
    let mut out = Vec::with_capacity(1_000_000);
    // Groups nest: level l contains level l+1.
    for level in 0..GROUP_LEVELS - 1 {
        for i in 0..GROUPS_PER_LEVEL {
            out.push(tuple("Group", group(level, i), "members", set("Group", group(level + 1, i), "members")));
        }
    }
    // Every user is in a deepest-level group, and in one more group somewhere.
    for u in 0..USERS {
        out.push(tuple("Group", group(GROUP_LEVELS - 1, u % GROUPS_PER_LEVEL), "members", id(format!("u{u}"))));
        out.push(tuple("Group", group(u % GROUP_LEVELS, (u * 7) % GROUPS_PER_LEVEL), "members", id(format!("u{u}"))));
    }
    // Folder chains: every folder but a chain's root has the previous one as parent; roots are viewed by a group.
    for f in 0..FOLDERS {
        if f % FOLDER_CHAIN == 0 {
            out.push(tuple(
                "Folder",
                format!("f{f}"),
                "viewers",
                set("Group", group(0, (f / FOLDER_CHAIN) % GROUPS_PER_LEVEL), "members"),
            ));
        } else {
            out.push(tuple("Folder", format!("f{f}"), "parents", set("Folder", format!("f{}", f - 1), "")));
        }
    }
    for d in 0..DOCS {
        out.push(tuple("Doc", format!("d{d}"), "parents", set("Folder", format!("f{}", d % FOLDERS), "")));
        out.push(tuple("Doc", format!("d{d}"), "owners", id(format!("u{}", (d * 13) % USERS))));
        out.push(tuple("Doc", format!("d{d}"), "viewers", id(format!("u{}", (d * 31 + 7) % USERS))));
    }
    // Viewers through group membership, up to one million relationships.
    let mut d = 0;
    while out.len() < 1_000_000 {
        out.push(tuple(
            "Doc",
            format!("d{d}"),
            "viewers",
            set("Group", group(d % GROUP_LEVELS, (d * 11) % GROUPS_PER_LEVEL), "members"),
        ));
        d += 1;
    }
    out
}

/// `count` document view checks, a deterministic mix: owners, direct viewers, members of viewing groups,
/// folder-inherited viewers, and strangers (the full search).
pub fn drive_checks(count: usize) -> Vec<RelationTuple> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    (0..count)
        .map(|i| {
            let d = next() % DOCS;
            let user = match i % 5 {
                0 => (d * 13) % USERS,
                1 => (d * 31 + 7) % USERS,
                2 => next() % USERS,
                3 => ((d % FOLDERS) / FOLDER_CHAIN % GROUPS_PER_LEVEL) + GROUPS_PER_LEVEL * (next() % 20),
                _ => next() % USERS,
            };
            tuple("Doc", format!("d{d}"), "view", id(format!("u{user}")))
        })
        .collect()
}
