//! All SQL of the permission engine: relationships, the region's change feed, and its head.
//!
//! Every write takes the head row's lock first, so writes commit in sequence order and a reader that has seen
//! change N has seen every change before N. Each query binds the project id, except the feed reader, which
//! follows the whole region (that is what keeps other workers' indexes coherent).

use sha2::{Digest, Sha256};
use sqlx::{FromRow, QueryBuilder};
use tessera_platform::db::{DbError, Transaction};
use tessera_platform::ids::ProjectId;
use tessera_platform::tenant::TenantDb;
use tessera_platform::{on_db, on_tx};
use time::OffsetDateTime;

use crate::tuple::{RelationTuple, Subject, SubjectSet};

/// Rows per multi-row INSERT.
const BATCH: usize = 400;

/// A change as recorded in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub project_id: ProjectId,
    pub seq: i64,
    pub inserted: bool,
    pub tuple: RelationTuple,
}

/// A filter over relationships; absent fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TupleQuery {
    pub namespace: Option<String>,
    pub object: Option<String>,
    pub relation: Option<String>,
    pub subject: Option<Subject>,
}

#[derive(FromRow)]
struct TupleRow {
    seq: i64,
    namespace: String,
    object: String,
    relation: String,
    subject_kind: i16,
    subject_id: String,
    subject_set_namespace: String,
    subject_set_object: String,
    subject_set_relation: String,
}

#[derive(FromRow)]
struct ChangeRow {
    project_id: ProjectId,
    inserted: bool,
    #[sqlx(flatten)]
    tuple: TupleRow,
}

impl TupleRow {
    fn into_tuple(self) -> RelationTuple {
        let subject = if self.subject_kind == 0 {
            Subject::Id(self.subject_id)
        } else {
            Subject::Set(SubjectSet {
                namespace: self.subject_set_namespace,
                object: self.subject_set_object,
                relation: self.subject_set_relation,
            })
        };
        RelationTuple { namespace: self.namespace, object: self.object, relation: self.relation, subject }
    }
}

/// The columns of a tuple, in table order after `project_id`.
struct Columns<'a> {
    hash: Vec<u8>,
    namespace: &'a str,
    object: &'a str,
    relation: &'a str,
    kind: i16,
    subject_id: &'a str,
    set_namespace: &'a str,
    set_object: &'a str,
    set_relation: &'a str,
}

fn columns(t: &RelationTuple) -> Columns<'_> {
    let (kind, subject_id, set_namespace, set_object, set_relation) = match &t.subject {
        Subject::Id(id) => (0, id.as_str(), "", "", ""),
        Subject::Set(s) => (1, "", s.namespace.as_str(), s.object.as_str(), s.relation.as_str()),
    };
    let mut hasher = Sha256::new();
    for field in [
        t.namespace.as_str(),
        t.object.as_str(),
        t.relation.as_str(),
        subject_id,
        set_namespace,
        set_object,
        set_relation,
    ] {
        hasher.update((field.len() as u32).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.update([kind as u8]);
    Columns {
        hash: hasher.finalize().to_vec(),
        namespace: &t.namespace,
        object: &t.object,
        relation: &t.relation,
        kind,
        subject_id,
        set_namespace,
        set_object,
        set_relation,
    }
}

const TUPLE_COLUMNS: &str = "seq, namespace, object, relation, subject_kind, subject_id, subject_set_namespace, subject_set_object, subject_set_relation";

/// Binds a [`TupleQuery`]'s eight parameters, in the order [`query_filter`] expects them.
macro_rules! bind_query {
    ($query:expr, $q:expr) => {{
        let (kind, sid, sns, sobj, srel) = subject_filter($q);
        $query
            .bind($q.namespace.as_deref())
            .bind($q.object.as_deref())
            .bind($q.relation.as_deref())
            .bind(kind)
            .bind(sid)
            .bind(sns)
            .bind(sobj)
            .bind(srel)
    }};
}

/// The filter of a [`TupleQuery`] over parameters `$n` to `$n+7`, bound with `bind_query!`.
fn query_filter(n: usize) -> String {
    let p = |i: usize| format!("${}", n + i);
    format!(
        "({0} IS NULL OR namespace = {0}) AND ({1} IS NULL OR object = {1}) AND ({2} IS NULL OR relation = {2}) \
         AND ({3} IS NULL OR (subject_kind = {3} AND subject_id = {4} AND subject_set_namespace = {5} \
         AND subject_set_object = {6} AND subject_set_relation = {7}))",
        p(0),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7)
    )
}

/// The permission engine's access to the regional database.
#[derive(Debug, Clone)]
pub struct PermissionStore {
    db: tessera_platform::db::Database,
}

impl PermissionStore {
    /// Over the worker's migrated database.
    pub fn new(db: tessera_platform::db::Database) -> Self {
        Self { db }
    }

    /// For a tenant: the same database, reached through the tenant's handle.
    pub fn for_tenant(db: TenantDb<'_>) -> Self {
        Self { db: db.database().clone() }
    }

    /// The last sequence number handed out in the region.
    pub async fn head(&self) -> Result<i64, DbError> {
        let seq: i64 = on_db!(&self.db, pool => {
            sqlx::query_scalar("SELECT seq FROM permission_head WHERE id = 1").fetch_one(pool).await?
        });
        Ok(seq)
    }

    /// Applies inserts (`true`) and deletes (`false`) in one transaction, in order; returns the new head.
    /// Inserting an existing tuple or deleting a missing one is not an error (Keto's semantics).
    pub async fn write(
        &self,
        project: ProjectId,
        deltas: &[(bool, RelationTuple)],
        at: OffsetDateTime,
    ) -> Result<i64, DbError> {
        let mut tx = self.db.begin().await?;
        let mut seq = lock_head(&mut tx).await?;
        let mut changes = Vec::with_capacity(deltas.len());
        // Runs of inserts go in multi-row statements; deletes one by one, in order.
        let mut i = 0;
        while i < deltas.len() {
            if deltas[i].0 {
                let end = deltas[i..].iter().position(|d| !d.0).map_or(deltas.len(), |p| i + p);
                for chunk in deltas[i..end].chunks(BATCH) {
                    let first = seq + 1;
                    insert_tuples(&mut tx, project, first, chunk.iter().map(|d| &d.1)).await?;
                    for d in chunk {
                        seq += 1;
                        changes.push((seq, true, &d.1));
                    }
                }
                i = end;
            } else {
                seq += 1;
                delete_tuple(&mut tx, project, &deltas[i].1).await?;
                changes.push((seq, false, &deltas[i].1));
                i += 1;
            }
        }
        record_changes(&mut tx, project, &changes, at).await?;
        set_head(&mut tx, seq).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Deletes every relationship matching `query`; returns the new head and how many went.
    pub async fn delete_matching(
        &self,
        project: ProjectId,
        query: &TupleQuery,
        at: OffsetDateTime,
    ) -> Result<(i64, usize), DbError> {
        let mut tx = self.db.begin().await?;
        let mut seq = lock_head(&mut tx).await?;
        let matching = select_matching(&mut tx, project, query).await?;
        let mut changes = Vec::with_capacity(matching.len());
        for t in &matching {
            seq += 1;
            delete_tuple(&mut tx, project, t).await?;
            changes.push((seq, false, t));
        }
        record_changes(&mut tx, project, &changes, at).await?;
        set_head(&mut tx, seq).await?;
        tx.commit().await?;
        Ok((seq, matching.len()))
    }

    /// A page of relationships matching `query`, after position `after`, in creation order; with their positions.
    pub async fn list(
        &self,
        project: ProjectId,
        query: &TupleQuery,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, RelationTuple)>, DbError> {
        let sql = format!(
            "SELECT {TUPLE_COLUMNS} FROM relation_tuples WHERE project_id = $1 AND seq > $2 AND {} ORDER BY seq LIMIT $11",
            query_filter(3)
        );
        let rows: Vec<TupleRow> = on_db!(&self.db, pool => {
            bind_query!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project).bind(after), query)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|r| (r.seq, r.into_tuple())).collect())
    }

    /// Every relationship of a project, and the region head read just before (changes after it may or may
    /// not be in the list; replaying them is harmless because inserts and deletes are idempotent).
    pub async fn load(&self, project: ProjectId) -> Result<(i64, Vec<RelationTuple>), DbError> {
        let head = self.head().await?;
        let sql = format!("SELECT {TUPLE_COLUMNS} FROM relation_tuples WHERE project_id = $1");
        let rows: Vec<TupleRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project).fetch_all(pool).await?
        });
        Ok((head, rows.into_iter().map(TupleRow::into_tuple).collect()))
    }

    /// A project's changes after `after`, in order.
    pub async fn changes_of(&self, project: ProjectId, after: i64) -> Result<Vec<Change>, DbError> {
        let sql = format!(
            "SELECT project_id, inserted, {TUPLE_COLUMNS} FROM permission_changes WHERE project_id = $1 AND seq > $2 ORDER BY seq"
        );
        let rows: Vec<ChangeRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project).bind(after).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(change).collect())
    }

    /// The region's changes after `after`, in order, at most `limit`.
    pub async fn changes(&self, after: i64, limit: i64) -> Result<Vec<Change>, DbError> {
        let sql = format!(
            "SELECT project_id, inserted, {TUPLE_COLUMNS} FROM permission_changes WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let rows: Vec<ChangeRow> = on_db!(&self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(change).collect())
    }

    /// Forgets changes older than `before`; workers that fall that far behind reload their indexes.
    pub async fn prune(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        let n = on_db!(&self.db, pool => {
            sqlx::query("DELETE FROM permission_changes WHERE created_at < $1").bind(before).execute(pool).await?.rows_affected()
        });
        Ok(n)
    }
}

fn change(r: ChangeRow) -> Change {
    Change { project_id: r.project_id, seq: r.tuple.seq, inserted: r.inserted, tuple: r.tuple.into_tuple() }
}

fn subject_filter(q: &TupleQuery) -> (Option<i16>, &str, &str, &str, &str) {
    match &q.subject {
        None => (None, "", "", "", ""),
        Some(Subject::Id(id)) => (Some(0), id.as_str(), "", "", ""),
        Some(Subject::Set(s)) => (Some(1), "", s.namespace.as_str(), s.object.as_str(), s.relation.as_str()),
    }
}

async fn lock_head(tx: &mut Transaction) -> Result<i64, DbError> {
    // A no-op update takes the row's write lock (and SQLite's write lock) for the rest of the transaction.
    let seq: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar("UPDATE permission_head SET seq = seq WHERE id = 1 RETURNING seq").fetch_one(&mut *conn).await?
    });
    Ok(seq)
}

async fn set_head(tx: &mut Transaction, seq: i64) -> Result<(), DbError> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE permission_head SET seq = $1 WHERE id = 1").bind(seq).execute(&mut *conn).await?;
    });
    Ok(())
}

async fn insert_tuples<'t>(
    tx: &mut Transaction,
    project: ProjectId,
    first_seq: i64,
    tuples: impl Iterator<Item = &'t RelationTuple>,
) -> Result<(), DbError> {
    let rows: Vec<(i64, Columns<'_>)> = tuples.enumerate().map(|(i, t)| (first_seq + i as i64, columns(t))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    on_tx!(tx, conn => {
        let mut qb = QueryBuilder::new(
            "INSERT INTO relation_tuples (project_id, tuple_hash, seq, namespace, object, relation, subject_kind, subject_id, \
             subject_set_namespace, subject_set_object, subject_set_relation) ",
        );
        qb.push_values(&rows, |mut b, (seq, c)| {
            b.push_bind(project)
                .push_bind(c.hash.as_slice())
                .push_bind(*seq)
                .push_bind(c.namespace)
                .push_bind(c.object)
                .push_bind(c.relation)
                .push_bind(c.kind)
                .push_bind(c.subject_id)
                .push_bind(c.set_namespace)
                .push_bind(c.set_object)
                .push_bind(c.set_relation);
        });
        qb.push(" ON CONFLICT (project_id, tuple_hash) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
    });
    Ok(())
}

async fn delete_tuple(tx: &mut Transaction, project: ProjectId, t: &RelationTuple) -> Result<(), DbError> {
    let c = columns(t);
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM relation_tuples WHERE project_id = $1 AND tuple_hash = $2")
            .bind(project)
            .bind(c.hash.as_slice())
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

async fn record_changes(
    tx: &mut Transaction,
    project: ProjectId,
    changes: &[(i64, bool, &RelationTuple)],
    at: OffsetDateTime,
) -> Result<(), DbError> {
    for chunk in changes.chunks(BATCH) {
        let rows: Vec<(i64, bool, Columns<'_>)> = chunk.iter().map(|(seq, ins, t)| (*seq, *ins, columns(t))).collect();
        on_tx!(tx, conn => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO permission_changes (project_id, seq, inserted, namespace, object, relation, subject_kind, subject_id, \
                 subject_set_namespace, subject_set_object, subject_set_relation, created_at) ",
            );
            qb.push_values(&rows, |mut b, (seq, inserted, c)| {
                b.push_bind(project)
                    .push_bind(*seq)
                    .push_bind(*inserted)
                    .push_bind(c.namespace)
                    .push_bind(c.object)
                    .push_bind(c.relation)
                    .push_bind(c.kind)
                    .push_bind(c.subject_id)
                    .push_bind(c.set_namespace)
                    .push_bind(c.set_object)
                    .push_bind(c.set_relation)
                    .push_bind(at);
            });
            qb.build().execute(&mut *conn).await?;
        });
    }
    Ok(())
}

async fn select_matching(
    tx: &mut Transaction,
    project: ProjectId,
    q: &TupleQuery,
) -> Result<Vec<RelationTuple>, DbError> {
    let sql = format!(
        "SELECT {TUPLE_COLUMNS} FROM relation_tuples WHERE project_id = $1 AND {} ORDER BY seq",
        query_filter(2)
    );
    let rows: Vec<TupleRow> = on_tx!(tx, conn => {
        bind_query!(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project), q).fetch_all(&mut *conn).await?
    });
    Ok(rows.into_iter().map(TupleRow::into_tuple).collect())
}
