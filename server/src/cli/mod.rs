//! The `headwaters` binary's subcommands beyond argument parsing: `serve`, `token`,
//! `import` (serve.rs).

pub(crate) mod serve;
