//! Typed identifiers.
//!
//! Every id in Tessera is a UUID, but a `ProjectId` can never be passed where a `WorkspaceId` is expected.
//! New ids are UUIDv7, so they sort by creation time; keyset pagination relies on that.

/// Declares a UUID newtype with the conversions every layer needs (serde, sqlx, OpenAPI, parsing).
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(u: ::uuid::Uuid) -> Self {
                Self(u)
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                use ::utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}

typed_id!(
    /// A workspace: the unit of ownership and billing that holds projects.
    WorkspaceId
);
typed_id!(
    /// A project: one tenant, with its own identities, permissions and OAuth2 clients.
    ProjectId
);
typed_id!(
    /// One immutable configuration revision of a project.
    RevisionId
);
typed_id!(
    /// A workspace or project API key.
    ApiKeyId
);
typed_id!(
    /// A person (or the platform operator) who can be a member of workspaces and projects.
    AccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = ProjectId::new();
        let b = ProjectId::new();
        assert!(a < b, "v7 ids created later sort later");
        let parsed: ProjectId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
        assert!("not-a-uuid".parse::<ProjectId>().is_err());
    }
}
