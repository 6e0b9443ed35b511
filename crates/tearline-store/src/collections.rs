//! The collections a node keeps STIX objects in, and their TAXII ids.

use tearline_stix::StixId;

/// A collection of STIX objects at a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Collection {
    /// The releases to an audience, read by its partners. Written only by
    /// a release.
    Read(String),
    /// A partner's inbox: its acknowledgements, measures and feedback.
    Inbox(String),
    /// What this node pulled from a remote.
    Received(String),
    /// Responses waiting to be pushed to a remote.
    Outbox(String),
}

impl Collection {
    /// The collection's TAXII id: a UUID derived from its kind and name,
    /// the same at every node and in every version.
    pub fn id(&self) -> String {
        let key = match self {
            Collection::Read(audience) => format!("read/{audience}"),
            Collection::Inbox(partner) => format!("inbox/{partner}"),
            Collection::Received(remote) => format!("received/{remote}"),
            Collection::Outbox(remote) => format!("outbox/{remote}"),
        };
        let id = StixId::derived("x-tearline-collection", &key).to_string();
        id.rsplit_once("--")
            .map(|(_, u)| u.to_string())
            .unwrap_or(id)
    }

    /// Whether this is an audience's read collection.
    pub fn is_read(&self) -> bool {
        matches!(self, Collection::Read(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = Collection::Read("liaison".into()).id();
        assert_eq!(a, Collection::Read("liaison".into()).id());
        assert_ne!(a, Collection::Inbox("liaison".into()).id());
        assert_eq!(a.len(), 36);
    }
}
