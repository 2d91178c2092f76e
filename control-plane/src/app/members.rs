use tessera_platform::ids::{AccountId, ProjectId};

use super::ControlPlane;
use crate::auth::{Actor, ProjectAction};
use crate::error::{Error, Result};
use crate::model::{Member, Role};
use crate::store::MemberRemoval;
use tessera_project_config::validate_name;

impl ControlPlane {
    /// A project's members.
    pub async fn project_members(&self, actor: &Actor, project: ProjectId) -> Result<Vec<Member>> {
        self.project_for(actor, project, ProjectAction::Configure).await?;
        Ok(self.store.project_member_list(project).await?)
    }

    /// Adds a person (by email) to a project, or changes their role.
    pub async fn project_member_add(
        &self,
        actor: &Actor,
        project: ProjectId,
        email: &str,
        name: Option<&str>,
        role: Role,
    ) -> Result<Member> {
        self.project_for(actor, project, ProjectAction::Administer).await?;
        let email = email.trim().to_ascii_lowercase();
        if !is_plausible_email(&email) {
            return Err(Error::Invalid(format!("`{email}` is not an email address.")));
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&email).to_owned();
        validate_name(&name).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = self.clock.now();
        let account = self.store.account_upsert(&email, &name, now).await?;
        self.store.project_member_put(project, account, role, now).await?;
        self.store
            .project_member_list(project)
            .await?
            .into_iter()
            .find(|m| m.account_id == account)
            .ok_or_else(|| Error::Conflict("The member was removed concurrently.".into()))
    }

    /// Removes a member; the last owner cannot be removed (406).
    pub async fn project_member_remove(&self, actor: &Actor, project: ProjectId, member: AccountId) -> Result<()> {
        self.project_for(actor, project, ProjectAction::Administer).await?;
        match self.store.project_member_remove(project, member).await? {
            MemberRemoval::Removed => Ok(()),
            MemberRemoval::NotAMember => {
                Err(Error::NotFound(format!("{member} is not a member of project {project}.")))
            }
            MemberRemoval::LastOwner => Err(Error::NotAcceptable(
                "The last owner of a project cannot be removed; make someone else owner first.".into(),
            )),
        }
    }
}

fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 320
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}
