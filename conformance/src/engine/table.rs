//! `check_table!`: a family's checks written as a table, one row per check, in run
//! order: `ID, Profile, run, [needs(limits, offer, stateless, session, answers, mcp),] "what it sends and expects";` where
//! `run` is an async fn of the context (or a closure of it that passes arguments) and
//! `needs` what the runner measures or establishes before it. The clause (`AUTH-3` of `AUTH-3.missing`)
//! comes from the ID. Rows are data: the macro adds no behaviour, it only boxes each run
//! function. Invoke it with braces (`check_table! { ... }`) so rustfmt keeps the rows.

/// A family's table of checks -> `Vec<Check>`.
macro_rules! check_table {
    ($($id:literal, $profile:ident, $run:expr, $(needs($($need:ident),+),)? $title:literal;)*) => {
        vec![$(
            $crate::engine::Check::new(
                $id,
                $crate::engine::Profile::$profile,
                $title,
                |ctx| Box::pin(($run)(ctx)),
            )
            .needing($crate::engine::Needs::NONE$($(.$need())+)?)
        ),*]
    };
}

pub(crate) use check_table;
