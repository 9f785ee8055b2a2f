//! `directoryObject`: what `principal` (role assignments) and `transitiveMembers` return (Graph docs
//! `resources/directoryobject.md`). The concrete type is in `@odata.type`.

use serde::Deserialize;

/// A user, group, service principal or device, with the properties common enough to be worth reading.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// E.g. `#microsoft.graph.user`.
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: String,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub user_type: Option<String>,
    pub account_enabled: Option<bool>,
}

/// The concrete kind of a [`DirectoryObject`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryObjectKind {
    User,
    Group,
    ServicePrincipal,
    /// Any other `@odata.type` (devices, org contacts, future types), kept verbatim.
    Other(String),
    /// No `@odata.type` was sent.
    Unknown,
}

impl DirectoryObject {
    pub fn kind(&self) -> DirectoryObjectKind {
        match self.odata_type.as_deref() {
            Some("#microsoft.graph.user") => DirectoryObjectKind::User,
            Some("#microsoft.graph.group") => DirectoryObjectKind::Group,
            Some("#microsoft.graph.servicePrincipal") => DirectoryObjectKind::ServicePrincipal,
            Some(other) => DirectoryObjectKind::Other(other.to_string()),
            None => DirectoryObjectKind::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_type_gives_the_kind() -> Result<(), serde_json::Error> {
        let group: DirectoryObject =
            serde_json::from_str(r##"{"@odata.type":"#microsoft.graph.group","id":"g"}"##)?;
        assert_eq!(group.kind(), DirectoryObjectKind::Group);
        let device: DirectoryObject =
            serde_json::from_str(r##"{"@odata.type":"#microsoft.graph.device","id":"d"}"##)?;
        assert_eq!(
            device.kind(),
            DirectoryObjectKind::Other("#microsoft.graph.device".into())
        );
        Ok(())
    }
}
