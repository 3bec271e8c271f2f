//! `analyze` must return (never panic, never hang) on any input, in every dialect.
#![no_main]

use headwaters_sqllineage::{Dialect, Options, analyze};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(sql) = std::str::from_utf8(rest) else { return };
    let names: Vec<&str> = Dialect::names().collect();
    let dialect: Dialect = names[selector as usize % names.len()].parse().expect("known dialect");
    let opts = Options { dialect, lateral_column_alias: Some(selector & 0x80 != 0), ..Options::default() };
    let _ = analyze(sql, &opts);
});
