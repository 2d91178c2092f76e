//! The directory log on both backends: consecutive sequence numbers, and a reader never sees a gap even while
//! many transactions append at once (commit order equals sequence order).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tessera_control_plane::migrations;
use tessera_control_plane::store::Store;
use tessera_platform::clock::{Clock, SystemClock};
use tessera_platform::db::testing::{TestDatabase, backends};
use tessera_platform::ids::ProjectId;

#[tokio::test]
async fn concurrent_appends_commit_in_sequence_order() {
    for backend in backends() {
        let t = TestDatabase::new(backend, &migrations()).await;
        let store = Store::new(t.db.clone());
        let writers = 8;
        let per_writer = 25;
        let done = Arc::new(AtomicBool::new(false));

        // The reader follows the log like a region does and checks that every page continues its cursor.
        let reader = {
            let store = store.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut cursor = 0i64;
                let mut pages = 0;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    let page = store.directory_entries(cursor, 50).await.unwrap();
                    for (seq, _) in &page {
                        assert_eq!(*seq, cursor + 1, "gap or reordering after {cursor}");
                        cursor = *seq;
                    }
                    pages += 1;
                    if finished && page.is_empty() {
                        return (cursor, pages);
                    }
                    tokio::task::yield_now().await;
                }
            })
        };

        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..per_writer {
                    let mut tx = store.begin().await.unwrap();
                    let record = format!(r#"{{"writer":{w},"i":{i}}}"#);
                    let seq = store
                        .directory_append_in_tx(&mut tx, ProjectId::new(), &record, SystemClock.now())
                        .await
                        .unwrap();
                    // Hold the transaction open a little, so others queue behind the head row.
                    tokio::task::yield_now().await;
                    tx.commit().await.unwrap();
                    seqs.push(seq);
                }
                seqs
            }));
        }
        let mut all = BTreeSet::new();
        for task in tasks {
            for seq in task.await.unwrap() {
                assert!(all.insert(seq), "sequence number {seq} handed out twice");
            }
        }
        done.store(true, Ordering::SeqCst);
        let (cursor, pages) = reader.await.unwrap();
        let total = (writers * per_writer) as i64;
        assert_eq!(all, (1..=total).collect::<BTreeSet<_>>(), "{backend:?}: consecutive from 1");
        assert_eq!(cursor, total, "{backend:?}: the reader saw everything");
        assert!(pages > 1);
        assert_eq!(store.directory_head().await.unwrap(), total);

        // The snapshot holds one current record per project, at the head.
        let (head, records) = store.directory_snapshot().await.unwrap();
        assert_eq!(head, total);
        assert_eq!(records.len(), total as usize);
    }
}

#[tokio::test]
async fn a_rolled_back_append_leaves_no_trace() {
    for backend in backends() {
        let t = TestDatabase::new(backend, &migrations()).await;
        let store = Store::new(t.db.clone());
        let mut tx = store.begin().await.unwrap();
        store.directory_append_in_tx(&mut tx, ProjectId::new(), "{}", SystemClock.now()).await.unwrap();
        drop(tx);
        assert_eq!(store.directory_head().await.unwrap(), 0);
        assert!(store.directory_entries(0, 10).await.unwrap().is_empty());
        let mut tx = store.begin().await.unwrap();
        let seq = store.directory_append_in_tx(&mut tx, ProjectId::new(), "{}", SystemClock.now()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(seq, 1, "{backend:?}: no gap after a rollback");
    }
}
