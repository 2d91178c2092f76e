//! The type checks Keto runs after a successful parse (`schema/typechecks.go`): every referenced namespace and
//! relation exists, and traversals reach relations through SubjectSets, memoized so the work stays linear.

use std::collections::HashMap;

use crate::lexer::{Token, shorten};

use super::*;

/// Name lookups that find the first declaration of a name, as Keto's do.
struct Lookup<'c> {
    namespaces: HashMap<&'c str, usize>,
    members: Vec<HashMap<&'c str, usize>>,
    classes: &'c [ClassDecl],
}

impl<'c> Lookup<'c> {
    fn new(classes: &'c [ClassDecl]) -> Self {
        let mut namespaces = HashMap::new();
        let mut members = Vec::with_capacity(classes.len());
        for (i, c) in classes.iter().enumerate() {
            namespaces.entry(c.name.as_str()).or_insert(i);
            let mut m = HashMap::new();
            for (j, r) in c.members.iter().enumerate() {
                m.entry(r.name()).or_insert(j);
            }
            members.push(m);
        }
        Lookup { namespaces, members, classes }
    }

    fn namespace(&self, name: &str) -> Option<usize> {
        self.namespaces.get(name).copied()
    }

    fn member(&self, namespace: &str, name: &str) -> Option<&'c Member> {
        let ns = self.namespace(namespace)?;
        self.members[ns].get(name).map(|&j| &self.classes[ns].members[j])
    }
}

pub(super) fn type_check(classes: &[ClassDecl], checks: &[Check<'_>]) -> Vec<RawError> {
    let lookup = Lookup::new(classes);
    let mut errors = Vec::new();
    let mut memo = HashMap::new();
    for check in checks {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let remaining = MAX_ERRORS - errors.len();
        let mut err = |at: &Token<'_>, message: String| errors.push(RawError { message, start: at.start, end: at.end });
        match check {
            Check::NamespaceExists(ns) => {
                if lookup.namespace(&ns.val).is_none() {
                    err(ns, format!("namespace {:?} is not declared", shorten(&ns.val)));
                }
            }
            Check::NamespaceHasRelation { namespace, relation } => {
                if lookup.namespace(&namespace.val).is_none() {
                    err(namespace, format!("namespace {:?} is not declared", shorten(&namespace.val)));
                } else if lookup.member(&namespace.val, &relation.val).is_none() {
                    err(
                        relation,
                        format!(
                            "namespace {:?} declares no relation or permission {:?}",
                            shorten(&namespace.val),
                            shorten(&relation.val)
                        ),
                    );
                }
            }
            Check::CurrentHasRelation { current, relation } => {
                if lookup.namespace(current).is_none() {
                    err(relation, format!("namespace {:?} is not declared", shorten(current)));
                } else if lookup.member(current, &relation.val).is_none() {
                    err(
                        relation,
                        format!(
                            "namespace {:?} declares no relation or permission {:?}",
                            shorten(current),
                            shorten(&relation.val)
                        ),
                    );
                }
            }
            Check::AllTypesHaveRelation { current, relation, computed } => {
                let mut walk = TraverseCheck { lookup: &lookup, computed, memo: &mut memo, out: Vec::new() };
                walk.report(current, &relation.val, TYPE_CHECK_MAX_DEPTH, remaining);
                for message in walk.out {
                    err(relation, message);
                }
            }
        }
    }
    errors
}

/// Keto's recursive check that every type of a traversed relation has the computed relation, following
/// `SubjectSet<N, "r">` types into N's r up to [`TYPE_CHECK_MAX_DEPTH`] times. Keto reports an error
/// for every path, so the same message can repeat; this walk yields the same sequence, skipping (thanks
/// to a memo of which calls report nothing) the subtrees without errors, and stops at a limit.
struct TraverseCheck<'l, 'c, 'm> {
    lookup: &'l Lookup<'c>,
    computed: &'l str,
    memo: &'m mut HashMap<(&'c str, &'c str, String, i32), bool>,
    out: Vec<String>,
}

impl<'c> TraverseCheck<'_, 'c, '_> {
    /// Whether checking `relation` of `namespace` at `depth` reports anything.
    fn fails(&mut self, namespace: &'c str, relation: &'c str, depth: i32) -> bool {
        if depth < 0 {
            return true;
        }
        let Some(member) = self.lookup.member(namespace, relation) else { return true };
        let key = (namespace, relation, self.computed.to_owned(), depth);
        if let Some(&f) = self.memo.get(&key) {
            return f;
        }
        let mut f = false;
        for t in member.types() {
            f = match t {
                SubjectType::Namespace { namespace: n } => self.lookup.member(n, self.computed).is_none(),
                SubjectType::SubjectSet { namespace: n, relation: r } => self.fails(n, r, depth - 1),
            };
            if f {
                break;
            }
        }
        self.memo.insert(key, f);
        f
    }

    fn report(&mut self, namespace: &str, relation: &str, depth: i32, limit: usize) {
        if self.out.len() >= limit {
            return;
        }
        if depth < 0 {
            self.out.push("cannot type-check SubjectSet types nested this deeply".to_owned());
            return;
        }
        let Some(member) = self.lookup.member(namespace, relation) else {
            self.out.push(format!(
                "relation {:?} is not declared in namespace {:?}",
                shorten(relation),
                shorten(namespace)
            ));
            return;
        };
        for t in member.types() {
            if self.out.len() >= limit {
                return;
            }
            match t {
                SubjectType::Namespace { namespace: n } => {
                    if self.lookup.member(n, self.computed).is_none() {
                        self.out.push(format!(
                            "relation {:?} is not declared in namespace {:?}",
                            shorten(self.computed),
                            shorten(n)
                        ));
                    }
                }
                SubjectType::SubjectSet { namespace: n, relation: r } => {
                    if self.fails(n, r, depth - 1) {
                        self.report(n, r, depth - 1, limit);
                    }
                }
            }
        }
    }
}
