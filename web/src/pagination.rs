//! Page-numbered lists with an optional search term, shared by every list endpoint.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::error::ApiError;

pub const MAX_PER_PAGE: u32 = 100;

#[derive(Debug, Deserialize, IntoParams, Validate)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[serde(default = "first_page")]
    #[param(minimum = 1)]
    pub page: u32,
    /// Items per page, 1 to 100.
    #[serde(default = "default_per_page")]
    #[param(minimum = 1, maximum = 100)]
    pub per_page: u32,
    /// Case-insensitive text to look for.
    pub q: Option<String>,
}

fn first_page() -> u32 {
    1
}

fn default_per_page() -> u32 {
    20
}

impl PageQuery {
    pub fn check(&self) -> Result<(), ApiError> {
        if self.page == 0 {
            return Err(ApiError::invalid("page", "pages are numbered from 1"));
        }
        if !(1..=MAX_PER_PAGE).contains(&self.per_page) {
            return Err(ApiError::invalid("per_page", format!("must be between 1 and {MAX_PER_PAGE}")));
        }
        Ok(())
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    /// The search term as an `ILIKE` pattern with its wildcards escaped, or `%` for everything.
    pub fn like_pattern(&self) -> String {
        like_pattern(self.q.as_deref())
    }
}

/// A search term (`q`) as an `ILIKE` pattern with its wildcards escaped, or `%` for everything.
pub fn like_pattern(q: Option<&str>) -> String {
    let term = q.map(str::trim).unwrap_or_default();
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Items matching the query across all pages.
    pub total: i64,
    pub total_pages: i64,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, query: &PageQuery, total: i64) -> Self {
        let per_page = i64::from(query.per_page);
        Self {
            items,
            page: query.page,
            per_page: query.per_page,
            total,
            total_pages: (total + per_page - 1) / per_page,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(page: u32, per_page: u32, q: Option<&str>) -> PageQuery {
        PageQuery { page, per_page, q: q.map(str::to_owned) }
    }

    #[test]
    fn offsets_follow_page_numbers() {
        assert_eq!((query(1, 20, None).offset(), query(3, 20, None).offset()), (0, 40));
    }

    #[test]
    fn search_wildcards_are_taken_literally() {
        assert_eq!(query(1, 20, Some(" 50%_off ")).like_pattern(), "%50\\%\\_off%");
    }

    #[test]
    fn out_of_range_pages_are_rejected() {
        assert!(query(0, 20, None).check().is_err());
        assert!(query(1, 101, None).check().is_err());
        assert_eq!(Page::new(Vec::<u8>::new(), &query(1, 20, None), 41).total_pages, 3);
    }
}
