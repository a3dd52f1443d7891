//! Where a page of rows lies among groups of rows counted in the page's order (hours or
//! latency bins of a roll-up), so that a page reads only the groups that hold it. The
//! engine narrows pages by its in-process roll-up (`analytics/events.rs`); the ClickHouse
//! store by its roll-up tables, checking the window by exact counts
//! (`store/clickhouse/pages.rs`).

/// Where a page lies among groups of rows counted in the page's order (hours, latency
/// bins): the group holding its first row, the rows of the groups before that one, and
/// the group holding its last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow<K> {
    pub first: K,
    pub skipped: u64,
    pub last: K,
}

/// The window of rows `offset..wanted` among `counts`; `None` when they hold fewer than
/// `wanted` rows.
pub fn page_window<K: Copy>(
    counts: impl IntoIterator<Item = (K, u64)>,
    offset: u64,
    wanted: u64,
) -> Option<PageWindow<K>> {
    let mut first = None;
    let mut seen = 0;
    for (key, count) in counts {
        if first.is_none() && seen + count > offset {
            first = Some((key, seen));
        }
        seen += count;
        if seen >= wanted {
            let (first, skipped) = first?;
            return Some(PageWindow {
                first,
                skipped,
                last: key,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_window_names_its_first_and_last_group_and_the_rows_before() {
        let counts = [('a', 10), ('b', 0), ('c', 5), ('d', 20)];
        assert_eq!(
            page_window(counts, 12, 22),
            Some(PageWindow {
                first: 'c',
                skipped: 10,
                last: 'd'
            })
        );
        // A page starting on a group's first row skips every row before it.
        assert_eq!(
            page_window(counts, 10, 11),
            Some(PageWindow {
                first: 'c',
                skipped: 10,
                last: 'c'
            })
        );
        assert_eq!(page_window(counts, 30, 36), None);
    }
}
