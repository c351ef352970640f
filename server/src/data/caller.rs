//! Who an upstream request is made for (DATA-11 in docs/contract.md; issue
//! 23, finding 8): an opaque [`CallerTag`] that the MCP layer sets around a
//! tool call ([`CallerTag::scope`]) and the live source reads ([`current`]) to give each
//! caller a fair share of the upstream slots, without any tool signature
//! knowing about it.
//!
//! The tag is derived from the caller's key digest by the transports; it is
//! only compared, never logged, and its `Debug` shows none of it.

/// An opaque identity for fair sharing: equal for the same caller.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallerTag([u8; 32]);

impl std::fmt::Debug for CallerTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallerTag(..)")
    }
}

impl CallerTag {
    /// The tag of the caller named by these 32 bytes (its key digest).
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A tag of one repeated byte (tests).
    #[cfg(test)]
    pub const fn from_byte(byte: u8) -> Self {
        Self([byte; 32])
    }

    /// Tag a `/mcp` request's parts before they go to rmcp: rmcp hands the
    /// parts to the tool call (`http::request::Parts` in its extensions),
    /// where `CfpbMcp::call_tool` finds this tag.
    pub fn tag_parts(self, parts: &mut http::request::Parts) {
        parts.extensions.insert(self);
    }

    /// The tag a request's parts carry, if its transport set one.
    pub fn of_parts(parts: &http::request::Parts) -> Option<Self> {
        parts.extensions.get::<CallerTag>().copied()
    }

    /// Run `work` on behalf of `caller` (the upstream requests it makes are
    /// counted against that caller's share).
    pub async fn scope<F: std::future::Future>(caller: Option<Self>, work: F) -> F::Output {
        CALLER.scope(caller, work).await
    }
}

tokio::task_local! {
    static CALLER: Option<CallerTag>;
}

/// The caller the current task works for, if any.
pub fn current() -> Option<CallerTag> {
    CALLER.try_with(|caller| *caller).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn data_11_the_tag_is_seen_inside_its_scope_only() {
        let tag = CallerTag::new([7; 32]);
        assert_eq!(current(), None);
        assert_eq!(
            CallerTag::scope(Some(tag), async { current() }).await,
            Some(tag)
        );
        assert_eq!(CallerTag::scope(None, async { current() }).await, None);
        assert_eq!(format!("{tag:?}"), "CallerTag(..)");
        let (mut parts, ()) = http::Request::new(()).into_parts();
        assert_eq!(CallerTag::of_parts(&parts), None);
        tag.tag_parts(&mut parts);
        assert_eq!(CallerTag::of_parts(&parts), Some(tag));
    }
}
