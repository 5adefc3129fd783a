/// One page of a keyset-paginated list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The key to continue after, when there may be more.
    pub next_after: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says "there is more".
    pub(crate) fn from_rows(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let next_after = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(&key)
        } else {
            None
        };
        Self { items, next_after }
    }
}
