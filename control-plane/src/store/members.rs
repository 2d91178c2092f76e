use sqlx::FromRow;
use tessera_platform::ids::{AccountId, ProjectId};
use tessera_platform::on_db;
use time::OffsetDateTime;

use super::{Store, StoreError, corrupt};
use crate::model::{Member, Role};

#[derive(FromRow)]
struct MemberRow {
    account_id: AccountId,
    email: String,
    name: String,
    email_verified: bool,
    role: String,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            account_id: r.account_id,
            email: r.email,
            name: r.name,
            email_verified: r.email_verified,
            role: r.role.parse().map_err(|e| corrupt("project_members.role", e))?,
        })
    }
}

impl Store {
    /// The account with this email, created with `name` if there is none yet.
    pub async fn account_upsert(&self, email: &str, name: &str, at: OffsetDateTime) -> Result<AccountId, StoreError> {
        let new_id = AccountId::new();
        let id: AccountId = on_db!(&self.db, pool => {
            sqlx::query("INSERT INTO accounts (id, email, name, email_verified, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING")
                .bind(new_id)
                .bind(email)
                .bind(name)
                .bind(false)
                .bind(at)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1").bind(email).fetch_one(pool).await?
        });
        Ok(id)
    }

    /// Adds or re-roles a member.
    pub async fn project_member_put(
        &self,
        project: ProjectId,
        account: AccountId,
        role: Role,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO project_members (project_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (project_id, account_id) DO UPDATE SET role = excluded.role",
            )
            .bind(project)
            .bind(account)
            .bind(role.as_str())
            .bind(at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A project's members, in the order they joined.
    pub async fn project_member_list(&self, project: ProjectId) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<MemberRow> = on_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT a.id AS account_id, a.email, a.name, a.email_verified, m.role \
                 FROM project_members m JOIN accounts a ON a.id = m.account_id \
                 WHERE m.project_id = $1 ORDER BY m.created_at, a.id LIMIT 1000",
            )
            .bind(project)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Member::try_from).collect()
    }

    /// Removes a member unless that would leave the project without an owner.
    pub async fn project_member_remove(
        &self,
        project: ProjectId,
        account: AccountId,
    ) -> Result<MemberRemoval, StoreError> {
        let mut tx = self.begin().await?;
        // Delete first (taking the write lock on SQLite), then look at what is left.
        let outcome = tessera_platform::on_tx!(&mut tx, conn => {
            let role: Option<String> = sqlx::query_scalar(
                "DELETE FROM project_members WHERE project_id = $1 AND account_id = $2 RETURNING role",
            )
            .bind(project)
            .bind(account)
            .fetch_optional(&mut *conn)
            .await?;
            match role.as_deref() {
                None => MemberRemoval::NotAMember,
                Some("owner") => {
                    let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND role = 'owner'")
                        .bind(project)
                        .fetch_one(&mut *conn)
                        .await?;
                    if owners == 0 { MemberRemoval::LastOwner } else { MemberRemoval::Removed }
                }
                Some(_) => MemberRemoval::Removed,
            }
        });
        if outcome == MemberRemoval::Removed {
            tx.commit().await?;
        }
        Ok(outcome)
    }
}

/// What removing a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRemoval {
    Removed,
    NotAMember,
    /// Refused: the project would have no owner left.
    LastOwner,
}
