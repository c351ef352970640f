//! The trend arguments shared by the trends, spike and dashboard tools
//! (DATA-6): `lens`, `sub_lens`, `trend_interval` as client enums with their
//! CCDB5 names, and the bounded integers and numbers they take.

use schemars::JsonSchema;
use serde::Deserialize;

use super::args::ArgError;
use crate::data::{GroupField, Lens, TrendInterval};

/// `lens` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LensArg {
    Overview,
    Product,
    Issue,
    Company,
}

impl From<LensArg> for Lens {
    fn from(value: LensArg) -> Self {
        match value {
            LensArg::Overview => Lens::Overview,
            LensArg::Product => Lens::Product,
            LensArg::Issue => Lens::Issue,
            LensArg::Company => Lens::Company,
        }
    }
}

/// `sub_lens` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubLensArg {
    Product,
    SubProduct,
    Issue,
    SubIssue,
    Company,
}

impl From<SubLensArg> for GroupField {
    fn from(value: SubLensArg) -> Self {
        match value {
            SubLensArg::Product => GroupField::Product,
            SubLensArg::SubProduct => GroupField::SubProduct,
            SubLensArg::Issue => GroupField::Issue,
            SubLensArg::SubIssue => GroupField::SubIssue,
            SubLensArg::Company => GroupField::Company,
        }
    }
}

/// `trend_interval` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalArg {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl From<IntervalArg> for TrendInterval {
    fn from(value: IntervalArg) -> Self {
        match value {
            IntervalArg::Day => TrendInterval::Day,
            IntervalArg::Week => TrendInterval::Week,
            IntervalArg::Month => TrendInterval::Month,
            IntervalArg::Quarter => TrendInterval::Quarter,
            IntervalArg::Year => TrendInterval::Year,
        }
    }
}

/// `value` (or `default`) within `min..=max`, else an error naming `name`.
pub fn bounded(
    name: &str,
    value: Option<u32>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ArgError> {
    let value = value.unwrap_or(default);
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ArgError::named(
            name,
            format!("must be between {min} and {max}"),
        ))
    }
}

/// A finite number (or `default`) within `min..=max`, else an error naming `name`.
pub fn bounded_number(
    name: &str,
    value: Option<f64>,
    default: f64,
    min: f64,
    max: f64,
) -> Result<f64, ArgError> {
    let value = value.unwrap_or(default);
    if value.is_finite() && value >= min && value <= max {
        Ok(value)
    } else {
        Err(ArgError::named(
            name,
            format!("must be a number between {min} and {max}"),
        ))
    }
}
