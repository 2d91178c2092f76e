//! Feeds arbitrary UTF-8 to the relation-tuple string parser: it must never panic, and whatever parses must
//! print back to a string that parses to the same tuple.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tessera_permission::tuple::{RelationTuple, Subject, SubjectSet};

fuzz_target!(|text: &str| {
    if let Ok(tuple) = text.parse::<RelationTuple>() {
        let printed = tuple.to_string();
        let again: RelationTuple = printed.parse().expect("a printed tuple parses");
        // Objects and ids may contain the separators, so only the printed form is canonical.
        assert_eq!(again.to_string(), printed);
        let _ = tuple.validate();
    }
    let _ = text.parse::<Subject>();
    let _ = text.parse::<SubjectSet>();
});
