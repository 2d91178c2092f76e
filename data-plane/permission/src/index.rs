//! The in-memory index of one project's relationships: what every check reads, so the hot path does no SQL.
//!
//! Strings are interned to `u32` symbols once per project; a relationship is then a `(namespace, object,
//! relation)` node pointing either at a subject id (kept in a hash set per node, so membership in a group of a
//! million members is one lookup) or at another node (a subject set, kept in a list per node for expansion).
//! Memory per relationship is bounded: a symbol in a set, or a 12-byte node in a list, plus the interned
//! strings it introduces; the benchmark measures it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::tuple::{RelationTuple, Subject, SubjectSet};

/// An interned string.
pub type Sym = u32;

/// A `(namespace, object, relation)` triple: the left side of a tuple, or a subject set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub namespace: Sym,
    pub object: Sym,
    pub relation: Sym,
}

/// A subject, interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectRef {
    Id(Sym),
    Set(Node),
}

#[derive(Debug, Default)]
struct Interner {
    map: HashMap<Arc<str>, Sym>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    fn get(&self, s: &str) -> Option<Sym> {
        self.map.get(s).copied()
    }

    fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.map.get(s) {
            return *sym;
        }
        let sym = Sym::try_from(self.strings.len()).expect("fewer than 2^32 distinct strings per project");
        let arc: Arc<str> = Arc::from(s);
        self.strings.push(arc.clone());
        self.map.insert(arc, sym);
        sym
    }

    fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym as usize]
    }
}

/// One project's relationships.
#[derive(Debug, Default)]
pub struct ProjectIndex {
    interner: Interner,
    ids: HashMap<Node, HashSet<Sym>>,
    sets: HashMap<Node, Vec<Node>>,
    len: usize,
    /// Every change up to this region sequence number is reflected.
    pub applied_seq: i64,
}

impl ProjectIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many relationships it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The symbol of a string, if any relationship uses it.
    pub fn sym(&self, s: &str) -> Option<Sym> {
        self.interner.get(s)
    }

    /// The string of a symbol.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.interner.resolve(sym)
    }

    /// The node of three strings, if all are known.
    pub fn node(&self, namespace: &str, object: &str, relation: &str) -> Option<Node> {
        Some(Node { namespace: self.sym(namespace)?, object: self.sym(object)?, relation: self.sym(relation)? })
    }

    /// The interned form of a subject, if all its strings are known.
    pub fn subject_ref(&self, subject: &Subject) -> Option<SubjectRef> {
        match subject {
            Subject::Id(id) => self.sym(id).map(SubjectRef::Id),
            Subject::Set(s) => self.node(&s.namespace, &s.object, &s.relation).map(SubjectRef::Set),
        }
    }

    fn intern_tuple(&mut self, t: &RelationTuple) -> (Node, SubjectRef) {
        let node = Node {
            namespace: self.interner.intern(&t.namespace),
            object: self.interner.intern(&t.object),
            relation: self.interner.intern(&t.relation),
        };
        let subject = match &t.subject {
            Subject::Id(id) => SubjectRef::Id(self.interner.intern(id)),
            Subject::Set(s) => SubjectRef::Set(Node {
                namespace: self.interner.intern(&s.namespace),
                object: self.interner.intern(&s.object),
                relation: self.interner.intern(&s.relation),
            }),
        };
        (node, subject)
    }

    /// Adds a relationship; returns false when it was already there.
    pub fn insert(&mut self, t: &RelationTuple) -> bool {
        let (node, subject) = self.intern_tuple(t);
        let added = match subject {
            SubjectRef::Id(id) => self.ids.entry(node).or_default().insert(id),
            SubjectRef::Set(set) => {
                let list = self.sets.entry(node).or_default();
                if list.contains(&set) {
                    false
                } else {
                    list.push(set);
                    true
                }
            }
        };
        self.len += usize::from(added);
        added
    }

    /// Removes a relationship; returns false when it was not there. Interned strings stay (they are cheap and
    /// likely to come back).
    pub fn remove(&mut self, t: &RelationTuple) -> bool {
        let (Some(node), Some(subject)) =
            (self.node(&t.namespace, &t.object, &t.relation), self.subject_ref(&t.subject))
        else {
            return false;
        };
        let removed = match subject {
            SubjectRef::Id(id) => {
                let removed = self.ids.get_mut(&node).is_some_and(|s| s.remove(&id));
                if self.ids.get(&node).is_some_and(HashSet::is_empty) {
                    self.ids.remove(&node);
                }
                removed
            }
            SubjectRef::Set(set) => {
                let removed = match self.sets.get_mut(&node) {
                    Some(list) => match list.iter().position(|s| *s == set) {
                        Some(i) => {
                            list.swap_remove(i);
                            true
                        }
                        None => false,
                    },
                    None => false,
                };
                if self.sets.get(&node).is_some_and(Vec::is_empty) {
                    self.sets.remove(&node);
                }
                removed
            }
        };
        self.len -= usize::from(removed);
        removed
    }

    /// Whether `node` holds `subject` directly.
    pub fn contains(&self, node: Node, subject: SubjectRef) -> bool {
        match subject {
            SubjectRef::Id(id) => self.ids.get(&node).is_some_and(|s| s.contains(&id)),
            SubjectRef::Set(set) => self.sets.get(&node).is_some_and(|l| l.contains(&set)),
        }
    }

    /// The subject sets `node` holds.
    pub fn subject_sets(&self, node: Node) -> &[Node] {
        self.sets.get(&node).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The subject ids `node` holds.
    pub fn subject_ids(&self, node: Node) -> impl Iterator<Item = Sym> + '_ {
        self.ids.get(&node).into_iter().flat_map(|s| s.iter().copied())
    }

    /// A node as strings.
    pub fn subject_set(&self, node: Node) -> SubjectSet {
        SubjectSet {
            namespace: self.resolve(node.namespace).to_owned(),
            object: self.resolve(node.object).to_owned(),
            relation: self.resolve(node.relation).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> RelationTuple {
        s.parse().unwrap()
    }

    #[test]
    fn insert_contains_remove() {
        let mut idx = ProjectIndex::new();
        assert!(idx.insert(&t("doc:a#viewer@alice")));
        assert!(!idx.insert(&t("doc:a#viewer@alice")), "set semantics");
        assert!(idx.insert(&t("doc:a#viewer@group:eng#member")));
        assert_eq!(idx.len(), 2);
        let node = idx.node("doc", "a", "viewer").unwrap();
        assert!(idx.contains(node, idx.subject_ref(&Subject::Id("alice".into())).unwrap()));
        assert_eq!(idx.subject_sets(node).len(), 1);
        assert!(idx.remove(&t("doc:a#viewer@group:eng#member")));
        assert!(!idx.remove(&t("doc:a#viewer@group:eng#member")));
        assert!(!idx.remove(&t("doc:a#viewer@nobody")));
        assert!(idx.subject_sets(node).is_empty());
        assert_eq!(idx.len(), 1);
    }
}
