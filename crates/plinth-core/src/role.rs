use std::fmt;
use std::str::FromStr;

use crate::Invalid;

/// A member's role in an organization.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Member,
    Owner,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Owner => "owner",
        }
    }
}

impl FromStr for OrgRole {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "member" => Ok(Self::Member),
            "owner" => Ok(Self::Owner),
            _ => Err(Invalid::new("must be \"owner\" or \"member\"")),
        }
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's role on one workspace. Ordered: a higher role can do all a lower one can.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceRole {
    Reader,
    Operator,
    Owner,
}

impl WorkspaceRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Operator => "operator",
            Self::Owner => "owner",
        }
    }
}

impl FromStr for WorkspaceRole {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "reader" => Ok(Self::Reader),
            "operator" => Ok(Self::Operator),
            "owner" => Ok(Self::Owner),
            _ => Err(Invalid::new(
                "must be \"reader\", \"operator\" or \"owner\"",
            )),
        }
    }
}

impl fmt::Display for WorkspaceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a caller wants to do in an org: the rows of DESIGN.md §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgPermission {
    /// See the org, its profile and its member list.
    View,
    /// Edit the profile, manage members, create and delete workspaces.
    Manage,
    /// Usage figures and the audit log.
    Inspect,
    /// Change the handle, reset authentication, delete the org.
    Administer,
}

impl OrgRole {
    /// Whether an active member with this role may do `permission`. Only viewing is open
    /// to plain members; everything else is for owners.
    pub fn can(self, permission: OrgPermission) -> bool {
        match permission {
            OrgPermission::View => true,
            OrgPermission::Manage | OrgPermission::Inspect | OrgPermission::Administer => {
                self == Self::Owner
            }
        }
    }

    /// The role an org member has on every workspace without an explicit one: owners
    /// own them all, members have none.
    pub fn implicit_workspace_role(self) -> Option<WorkspaceRole> {
        match self {
            Self::Owner => Some(WorkspaceRole::Owner),
            Self::Member => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_only_view() {
        for p in [
            OrgPermission::View,
            OrgPermission::Manage,
            OrgPermission::Inspect,
            OrgPermission::Administer,
        ] {
            assert!(OrgRole::Owner.can(p));
            assert_eq!(OrgRole::Member.can(p), p == OrgPermission::View);
        }
        assert_eq!(
            OrgRole::Owner.implicit_workspace_role(),
            Some(WorkspaceRole::Owner)
        );
        assert_eq!(OrgRole::Member.implicit_workspace_role(), None);
    }
}
