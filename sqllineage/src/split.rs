//! Splitting a script into statements and parsing each on its own, so one bad
//! statement does not hide the lineage of the others.
//!
//! A piece between top-level semicolons is parsed as one statement. What follows a
//! complete statement is parsed as further statements (T-SQL needs no semicolons); what
//! cannot be parsed is reported, and parsing resumes at the next keyword that can start
//! a statement (so the INSERT inside a procedure body still yields lineage).

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Statement};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::dialect::Dialect;
use crate::model::Location;

/// One statement of a script: where it starts, and the parse result.
pub(crate) struct Parsed {
    pub(crate) location: Location,
    /// Boxed: a `Statement` is 3.4 KB, and the list of a script's statements grows.
    pub(crate) result: Result<Box<Statement>, String>,
    /// For a statement the parser refused but whose lineage the tokens show
    /// ([`recognize`]): its kind, the tables read and the tables written.
    pub(crate) recognized: Option<Recognized>,
    /// Found inside a statement the parser refused, by resuming after its error.
    pub(crate) recovered: bool,
    /// Parsed only in part (what follows the parsed prefix starts no statement): the
    /// error where it stops being understood.
    pub(crate) partial: Option<String>,
}

/// Lineage read off the tokens of a statement the parser does not know.
pub(crate) struct Recognized {
    pub(crate) kind: crate::model::StatementKind,
    pub(crate) reads: Vec<ObjectName>,
    pub(crate) writes: Vec<ObjectName>,
}

/// Statements sqlparser has no grammar for but whose lineage is plain from their
/// tokens. Today: Hive's `ALTER TABLE t1 EXCHANGE PARTITION (...) WITH TABLE t2`
/// (moves t2's partition into t1).
fn recognize(tokens: &[TokenWithSpan]) -> Option<Recognized> {
    let toks: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
        .collect();
    let word = |i: usize, k: Keyword| matches!(toks.get(i), Some(Token::Word(w)) if w.keyword == k);
    // A dotted name starting at `i`: its parts and the index after it.
    let name = |mut i: usize| -> Option<(ObjectName, usize)> {
        let mut parts = Vec::new();
        loop {
            match toks.get(i) {
                Some(Token::Word(w)) => parts.push(ObjectNamePart::Identifier(Ident {
                    value: w.value.clone(),
                    quote_style: w.quote_style,
                    span: sqlparser::tokenizer::Span::empty(),
                })),
                _ => return None,
            }
            i += 1;
            if matches!(toks.get(i), Some(Token::Period)) {
                i += 1;
            } else {
                return Some((ObjectName(parts), i));
            }
        }
    };
    if !(word(0, Keyword::ALTER) && word(1, Keyword::TABLE)) {
        return None;
    }
    let (target, mut i) = name(2)?;
    if !(word(i, Keyword::EXCHANGE) && word(i + 1, Keyword::PARTITION)) {
        return None;
    }
    i += 2;
    // Skip the partition spec `( ... )`.
    let mut depth = 0;
    loop {
        match toks.get(i)? {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    i += 1;
                    break;
                }
            }
            _ if depth == 0 => return None,
            _ => {}
        }
        i += 1;
    }
    if !(word(i, Keyword::WITH) && word(i + 1, Keyword::TABLE)) {
        return None;
    }
    let (source, end) = name(i + 2)?;
    (end == toks.len()).then(|| Recognized {
        kind: crate::model::StatementKind::AlterTable,
        reads: vec![source],
        writes: vec![target],
    })
}

/// Nesting limit handed to the parser (it reports deeper input as an error).
const PARSER_RECURSION_LIMIT: usize = 64;

/// Attempts to resume after a parse error, per piece (bounds the work on bad input; a
/// piece can be a whole procedure body).
const MAX_RECOVERIES: usize = 256;

/// The MySQL client's `DELIMITER x` lines (dumps and routine scripts: `DELIMITER //`,
/// `CREATE PROCEDURE ... END //`, `DELIMITER ;`): the text with those lines blanked and
/// each statement end written in the custom delimiter turned into `;`, every character
/// kept in its line and column so locations stay those of the input. `None` when the
/// text has no DELIMITER line.
fn mysql_client_delimiters(sql: &str) -> Option<String> {
    let is_delimiter_line = |line: &str| {
        let t = line.trim_start();
        t.get(..9)
            .is_some_and(|w| w.eq_ignore_ascii_case("DELIMITER"))
            && t.get(9..)
                .is_some_and(|r| r.starts_with([' ', '\t']) && !r.trim().is_empty())
    };
    if !sql.lines().any(is_delimiter_line) {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut delimiter = ";".to_string();
    // Quote or comment open at the end of the previous line.
    let mut open: Option<&str> = None;
    for line in sql.split_inclusive('\n') {
        if open.is_none() && is_delimiter_line(line) {
            let body = line.trim_end_matches(['\n', '\r']);
            delimiter = body.trim_start()[9..].trim().to_string();
            out.extend(body.chars().map(|_| ' '));
            out.push_str(&line[body.len()..]);
            continue;
        }
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            if let Some(end) = open {
                if rest.starts_with(end) {
                    out.push_str(end);
                    rest = &rest[end.len()..];
                    open = None;
                } else {
                    if end == "\n" && c == '\n' {
                        open = None;
                    }
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
                continue;
            }
            let starts = |p: &str| rest.starts_with(p);
            if delimiter != ";" && starts(&delimiter) {
                out.push(';');
                out.extend(delimiter.chars().skip(1).map(|_| ' '));
                rest = &rest[delimiter.len()..];
                continue;
            }
            open = match c {
                '\'' => Some("'"),
                '"' => Some("\""),
                '`' => Some("`"),
                '#' => Some("\n"),
                '-' if starts("-- ") || starts("--\t") || starts("--\n") => Some("\n"),
                '/' if starts("/*") => Some("*/"),
                _ => None,
            };
            out.push(c);
            rest = &rest[c.len_utf8()..];
            if open == Some("*/") {
                out.push('*');
                rest = &rest[1..];
            }
        }
    }
    Some(out)
}

/// Tokenizes `sql`, splits it at top-level semicolons and parses each piece.
pub(crate) fn statements(sql: &str, dialect: Dialect) -> Vec<Parsed> {
    let rewritten = (dialect == Dialect::MySql)
        .then(|| mysql_client_delimiters(sql))
        .flatten();
    let sql = rewritten.as_deref().unwrap_or(sql);
    let d = dialect.parser_dialect();
    // One token per run of whitespace: the parser skips a quarter as many on indented SQL.
    let mut tokens = match Tokenizer::new(d.as_ref(), sql)
        .with_collapsed_whitespace(true)
        .tokenize_with_location()
    {
        Ok(t) => t,
        Err(e) => {
            let location = Location {
                line: e.location.line,
                column: e.location.column,
            };
            return vec![Parsed {
                location,
                result: Err(e.message),
                recognized: None,
                recovered: false,
                partial: None,
            }];
        }
    };
    let mut out = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    let mut depth = 0i64;
    // Open procedural blocks (`BEGIN ... END`, and the `CASE ... END` inside them):
    // their semicolons end statements inside the block, not the block.
    let mut blocks = 0i64;
    let batches = dialect == Dialect::MsSql;
    // Snowflake: a scripting block's handler section on its own (`EXCEPTION WHEN e THEN
    // statements ...`, the column of its EXCEPTION): it holds the `WHEN` arms and the
    // statements indented under it.
    let mut handler: Option<u64> = None;
    // Control flow outside BEGIN ... END (MySQL, Snowflake, BigQuery scripts): `IF ...
    // END IF`, `WHILE ... END WHILE`, `LOOP`, `REPEAT`, `FOR`, `CASE ... END CASE` at a
    // statement's start hold their statements (T-SQL's IF has no END IF).
    let mut control = 0i64;
    let mut i = 0;
    while i < tokens.len() {
        // Taken, not cloned: only the tokens after it are looked at from here on.
        let mut t = std::mem::replace(&mut tokens[i], TokenWithSpan::wrap(Token::EOF));
        i += 1;
        let after = &tokens[i..];
        // T-SQL: `GO` alone on its line ends a batch (a client command, not SQL).
        if batches && depth <= 0 && is_batch_separator(&t, &current, after) {
            parse_piece(std::mem::take(&mut current), dialect, &mut out);
            blocks = 0;
            i += after.iter().take_while(|n| !is_line_end(n)).count();
            continue;
        }
        // Snowflake, Oracle: `"AMOUNT"` is how `amount` is stored, so it is the same
        // identifier; unquote it here and it normalizes like the unquoted one.
        if let Token::Word(w) = &mut t.token
            && w.quote_style == Some('"')
            && dialect.is_folded_spelling(&w.value)
        {
            w.quote_style = None;
        }
        // Join hints only choose how a join runs; the join reads the same.
        if is_join_hint(dialect, &t, &current, after) {
            continue;
        }
        // MySQL: `END~` or `END//` at the end of a line is a routine's end written in the
        // client's custom delimiter whose `DELIMITER` line is not in the text (a `~` or
        // `/` cannot end an expression, so it is no operator there).
        if dialect == Dialect::MySql
            && matches!(t.token, Token::Tilde | Token::Div)
            && is_word(current.iter().rev().find(|n| !is_blank(n)), "END")
        {
            let run = after
                .iter()
                .take_while(|n| matches!(n.token, Token::Tilde | Token::Div))
                .count();
            let next = after[run..]
                .iter()
                .find(|n| !is_blank(n) && n.token != Token::EOF);
            if next.is_none_or(|n| n.span.start.line > t.span.start.line) {
                t.token = Token::SemiColon;
                i += run;
            }
        }
        // Snowflake DCM projects: `DEFINE {TABLE | VIEW | FUNCTION | ...}` declares the
        // object as `CREATE OR ALTER` would; its lineage is the CREATE's.
        if dialect == Dialect::Snowflake
            && current.iter().all(is_blank)
            && is_word(Some(&t), "DEFINE")
            && matches!(
                after.iter().find(|n| !is_blank(n)).map(|n| &n.token),
                Some(Token::Word(_))
            )
        {
            t.token = Token::make_keyword("CREATE");
        }
        if dialect == Dialect::Teradata {
            expand_teradata_abbreviation(&mut t.token, current.iter().rev().find(|p| !is_blank(p)));
        }
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if w.quote_style.is_none() => {
                let next = after.iter().find(|n| !is_blank(n)).map(|n| &n.token);
                blocks += block_step(&w.value, next, blocks > 0);
                blocks = blocks.max(0);
                if dialect != Dialect::MsSql && blocks == 0 {
                    let previous = current.iter().rev().find(|n| !is_blank(n));
                    let at_start = previous.is_none()
                        || control > 0
                            && (previous.is_some_and(|p| p.token == Token::SemiColon)
                                || ["THEN", "ELSE", "DO", "LOOP", "REPEAT"]
                                    .iter()
                                    .any(|w| is_word(previous, w)));
                    control += control_step(&w.value, next, at_start, control > 0);
                    control = control.max(0);
                }
            }
            _ => {}
        }
        if dialect == Dialect::Snowflake
            && blocks == 0
            && current.iter().all(is_blank)
            && is_word(Some(&t), "EXCEPTION")
            && is_word(after.iter().find(|n| !is_blank(n)), "WHEN")
        {
            handler = Some(t.span.start.column);
        }
        let section_goes_on = |column: u64| {
            let next = after.iter().find(|n| !is_blank(n) && n.token != Token::EOF);
            next.is_some_and(|n| is_word(Some(n), "WHEN") || n.span.start.column > column)
        };
        if t.token == Token::SemiColon
            && depth <= 0
            && blocks == 0
            && control == 0
            && !handler.is_some_and(section_goes_on)
        {
            parse_piece(std::mem::take(&mut current), dialect, &mut out);
            depth = 0;
            handler = None;
        } else {
            current.push(t);
        }
    }
    parse_piece(current, dialect, &mut out);
    out
}

/// Whether a token is the unquoted word `word` (in any case).
fn is_word(t: Option<&TokenWithSpan>, word: &str) -> bool {
    matches!(t.map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// Teradata's abbreviations `SEL`, `DEL`, `INS`, `UPD` are reserved words there (a
/// column so named must be quoted), so each unquoted one is its keyword, except as the
/// part of a qualified name (`t.sel`).
fn expand_teradata_abbreviation(token: &mut Token, previous: Option<&TokenWithSpan>) {
    let Token::Word(w) = token else { return };
    if w.quote_style.is_some() || previous.is_some_and(|p| p.token == Token::Period) {
        return;
    }
    let (value, keyword) = match w.value.to_ascii_uppercase().as_str() {
        "SEL" => ("SELECT", Keyword::SELECT),
        "DEL" => ("DELETE", Keyword::DELETE),
        "INS" => ("INSERT", Keyword::INSERT),
        "UPD" => ("UPDATE", Keyword::UPDATE),
        _ => return,
    };
    w.value = value.to_string();
    w.keyword = keyword;
}

/// A join hint between the join type and `JOIN`: Snowflake's `DIRECTED`
/// (`INNER DIRECTED JOIN`), T-SQL's `HASH`, `MERGE`, `LOOP`, `REMOTE`
/// (`LEFT OUTER HASH JOIN`).
fn is_join_hint(
    dialect: Dialect,
    t: &TokenWithSpan,
    before: &[TokenWithSpan],
    after: &[TokenWithSpan],
) -> bool {
    let hints: &[&str] = match dialect {
        Dialect::Snowflake => &["DIRECTED"],
        Dialect::MsSql => &["HASH", "MERGE", "LOOP", "REMOTE"],
        _ => return false,
    };
    let Token::Word(w) = &t.token else {
        return false;
    };
    let word = |x: Option<&TokenWithSpan>, keywords: &[Keyword]| matches!(x.map(|x| &x.token), Some(Token::Word(n)) if n.quote_style.is_none() && keywords.contains(&n.keyword));
    // `DIRECTED JOIN` alone is an inner join; T-SQL's hints follow a join type.
    let after_join_type = || {
        word(
            before.iter().rev().find(|n| !is_blank(n)),
            &[
                Keyword::INNER,
                Keyword::OUTER,
                Keyword::LEFT,
                Keyword::RIGHT,
                Keyword::FULL,
                Keyword::CROSS,
            ],
        )
    };
    w.quote_style.is_none()
        && hints.iter().any(|h| w.value.eq_ignore_ascii_case(h))
        && word(after.iter().find(|n| !is_blank(n)), &[Keyword::JOIN])
        && (dialect == Dialect::Snowflake || after_join_type())
}

/// How a word changes the procedural block depth. `BEGIN` opens a block unless it
/// starts a transaction (`BEGIN;`, `BEGIN TRANSACTION`, `BEGIN WORK`, ...); inside a
/// block `CASE` opens one too and `END` closes one (`END IF`, `END LOOP`, `END WHILE`
/// close statements that opened none).
fn block_step(word: &str, next: Option<&Token>, in_block: bool) -> i64 {
    let is = |w: &str| word.eq_ignore_ascii_case(w);
    if !(is("BEGIN") || in_block && (is("CASE") || is("END"))) {
        return 0;
    }
    let next_is = |words: &[&str]| matches!(next, Some(Token::Word(n)) if words.iter().any(|w| n.value.eq_ignore_ascii_case(w)));
    if word.eq_ignore_ascii_case("BEGIN") {
        let transaction = matches!(next, None | Some(Token::SemiColon | Token::EOF))
            || next_is(&[
                "TRANSACTION",
                "TRAN",
                "WORK",
                "DEFERRED",
                "IMMEDIATE",
                "EXCLUSIVE",
                "DISTRIBUTED",
                "ISOLATION",
                "READ",
                "NOT",
                "END",
            ]);
        i64::from(!transaction)
    } else if in_block && word.eq_ignore_ascii_case("CASE") {
        1
    } else if in_block && word.eq_ignore_ascii_case("END") {
        if next_is(&["IF", "LOOP", "WHILE", "REPEAT", "FOR"]) {
            0
        } else {
            -1
        }
    } else {
        0
    }
}

/// How a word changes the depth of control flow written outside `BEGIN ... END`: `IF`,
/// `WHILE`, `LOOP`, `REPEAT`, `FOR` and `CASE` opening a statement open one; `END IF`,
/// `END WHILE`, ... close one.
fn control_step(word: &str, next: Option<&Token>, at_start: bool, open: bool) -> i64 {
    const KINDS: [&str; 6] = ["IF", "WHILE", "LOOP", "REPEAT", "FOR", "CASE"];
    let next_is_kind = || matches!(next, Some(Token::Word(n)) if KINDS.iter().any(|k| n.value.eq_ignore_ascii_case(k)));
    if open && word.eq_ignore_ascii_case("END") && next_is_kind() {
        -1
    } else if at_start && KINDS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
        1
    } else {
        0
    }
}

/// `GO` (optionally `GO 5`) on a line of its own.
fn is_batch_separator(
    t: &TokenWithSpan,
    before: &[TokenWithSpan],
    after: &[TokenWithSpan],
) -> bool {
    let Token::Word(w) = &t.token else {
        return false;
    };
    if w.quote_style.is_some() || !w.value.eq_ignore_ascii_case("GO") {
        return false;
    }
    let line_start = before
        .iter()
        .rev()
        .find(|p| !matches!(&p.token, Token::Whitespace(ws) if !is_newline(ws)))
        .is_none_or(is_line_end);
    let mut after = after
        .iter()
        .take_while(|n| !is_line_end(n))
        .filter(|n| !is_blank(n));
    let count = after.next();
    line_start
        && count.is_none_or(|c| matches!(c.token, Token::Number(..)))
        && after.next().is_none()
}

fn is_newline(ws: &sqlparser::tokenizer::Whitespace) -> bool {
    use sqlparser::tokenizer::Whitespace;
    matches!(
        ws,
        Whitespace::Newline | Whitespace::SingleLineComment { .. }
    )
}

/// A newline (a `--` comment ends its line too) or the end of input.
fn is_line_end(t: &TokenWithSpan) -> bool {
    match &t.token {
        Token::Whitespace(ws) => is_newline(ws),
        Token::EOF => true,
        _ => false,
    }
}

fn location(t: &TokenWithSpan) -> Location {
    Location {
        line: t.span.start.line,
        column: t.span.start.column,
    }
}

fn is_blank(t: &TokenWithSpan) -> bool {
    matches!(t.token, Token::Whitespace(_) | Token::EOF)
}

/// A keyword that can begin a statement we extract lineage from.
fn starts_statement(t: &TokenWithSpan) -> bool {
    matches!(
        &t.token,
        Token::Word(w) if matches!(
            w.keyword,
            Keyword::INSERT | Keyword::SELECT | Keyword::WITH | Keyword::MERGE | Keyword::UPDATE
                | Keyword::DELETE | Keyword::CREATE
        )
    )
}

/// How the statement at the start of a piece's tokens parsed.
enum Outcome {
    /// Parsed up to the end of the piece or to the start of a next statement; the
    /// tokens used.
    Complete(Box<Statement>, usize),
    /// Only a prefix parsed and what follows starts no statement: the prefix, the
    /// tokens used, and an error naming where the statement stops being understood.
    Partial(Box<Statement>, usize, String),
    /// Refused: the dialect's own error.
    Failed(String),
}

/// Parses the statement at the start of `tokens` with the dialect's grammar; where
/// that refuses it or reads only a prefix of it, with its fallback grammars
/// ([`Dialect::fallback_parser_dialects`]), taking the first complete parse. The tokens
/// are moved into each parser and taken back after (no copy per attempt), and returned.
fn parse_one(tokens: Vec<TokenWithSpan>, dialect: Dialect) -> (Outcome, Vec<TokenWithSpan>) {
    let parse = |d: &dyn sqlparser::dialect::Dialect, tokens: Vec<TokenWithSpan>| {
        let mut parser = Parser::new(d)
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .with_tokens_with_locations(tokens);
        let parsed = parser.parse_statement();
        let index = parser.index();
        let tokens = parser.into_tokens();
        let outcome = match parsed {
            Ok(s) => {
                let mut used = index.min(tokens.len());
                if dialect == Dialect::MsSql {
                    used += query_hints(&tokens[used..]);
                }
                match tokens[used..]
                    .iter()
                    .find(|t| !is_blank(t) && t.token != Token::SemiColon)
                {
                    Some(next) if !may_start_statement(next) => Outcome::Partial(
                        Box::new(s),
                        used,
                        format!(
                            "sql parser error: Expected: end of statement, found: {} at Line: {}, Column: {}",
                            next.token, next.span.start.line, next.span.start.column
                        ),
                    ),
                    _ => Outcome::Complete(Box::new(s), used),
                }
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
        (outcome, tokens)
    };
    let (own, mut tokens) = parse(dialect.parser_dialect().as_ref(), tokens);
    if matches!(own, Outcome::Complete(..)) {
        return (own, tokens);
    }
    for d in dialect.fallback_parser_dialects() {
        let (found, back) = parse(d.as_ref(), tokens);
        tokens = back;
        if matches!(found, Outcome::Complete(..)) {
            return (found, tokens);
        }
    }
    (own, tokens)
}

/// Hive's and Spark's multi-insert, `FROM src [JOIN ...] INSERT ... SELECT ... [INSERT ...
/// SELECT ...]`: one statement per INSERT, each reading the shared FROM (given to its
/// SELECT where that names no FROM of its own), and the tokens used. `None` when the
/// tokens do not start with one (or it does not parse: the usual path reports why).
fn parse_multi_insert(
    tokens: &[TokenWithSpan],
    dialect: Dialect,
) -> Option<(Vec<(Location, Statement)>, usize)> {
    use sqlparser::ast::SetExpr;
    if !matches!(
        dialect,
        Dialect::Hive | Dialect::SparkSql | Dialect::Databricks | Dialect::Generic
    ) || !matches!(&tokens.first()?.token, Token::Word(w) if w.keyword == Keyword::FROM)
    {
        return None;
    }
    // The shared FROM ends at the first INSERT outside parentheses (parsed apart, or
    // the dialect would take `INSERT` for the last table's alias).
    let mut depth = 0usize;
    let split = tokens.iter().position(|t| {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Word(w) => return depth == 0 && w.keyword == Keyword::INSERT,
            _ => {}
        }
        false
    })?;
    let parser_dialect = dialect.parser_dialect();
    let mut parser = Parser::new(parser_dialect.as_ref())
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens[..split].to_vec());
    parser.expect_keyword(Keyword::FROM).ok()?;
    let from = parser
        .parse_comma_separated(Parser::parse_table_and_joins)
        .ok()?;
    if parser.peek_token_ref().token != Token::EOF {
        return None;
    }
    let mut parser = Parser::new(parser_dialect.as_ref())
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens[split..].to_vec());
    let mut out = Vec::new();
    while parser.peek_keyword(Keyword::INSERT) {
        let at = location(parser.peek_token_ref());
        let mut statement = parser.parse_statement().ok()?;
        let Statement::Insert(insert) = &mut statement else {
            return None;
        };
        if let Some(SetExpr::Select(select)) = insert.source.as_mut().map(|q| q.body.as_mut())
            && select.from.is_empty()
        {
            select.from = from.clone();
        }
        out.push((at, statement));
    }
    let used = split + parser.index().min(tokens.len() - split);
    let rest_is_empty = tokens[used..]
        .iter()
        .all(|t| is_blank(t) || t.token == Token::SemiColon);
    (!out.is_empty() && rest_is_empty).then_some((out, used))
}

/// T-SQL's query hints after a statement, `OPTION (LABEL = 'x', MAXDOP 2, ...)`: how
/// many tokens they take (0 if none follow). They change how a statement runs, not
/// what it reads or writes.
fn query_hints(tokens: &[TokenWithSpan]) -> usize {
    let mut i = tokens.iter().take_while(|t| is_blank(t)).count();
    match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() && w.keyword == Keyword::OPTION => {}
        _ => return 0,
    }
    i += 1;
    i += tokens[i..].iter().take_while(|t| is_blank(t)).count();
    if tokens.get(i).map(|t| &t.token) != Some(&Token::LParen) {
        return 0;
    }
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(i) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    0
}

/// Whether a token can begin a statement (for scripts without semicolons, where a
/// statement ends where the next begins).
fn may_start_statement(t: &TokenWithSpan) -> bool {
    const STARTS: &[&str] = &[
        "ABORT",
        "ALTER",
        "ANALYZE",
        "ATTACH",
        "BACKUP",
        "BEGIN",
        "BREAK",
        "CACHE",
        "CALL",
        "CASE",
        "CHECKPOINT",
        "CLOSE",
        "CLUSTER",
        "COMMENT",
        "COMMIT",
        "CONTINUE",
        "COPY",
        "CREATE",
        "DBCC",
        "DEALLOCATE",
        "DECLARE",
        "DELETE",
        "DENY",
        "DESC",
        "DESCRIBE",
        "DETACH",
        "DISCARD",
        "DROP",
        "ELSE",
        "END",
        "EXEC",
        "EXECUTE",
        "EXPLAIN",
        "EXPORT",
        "FETCH",
        "FLUSH",
        "FOR",
        "FROM",
        "GET",
        "GRANT",
        "IF",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "KILL",
        "LET",
        "LIST",
        "LISTEN",
        "LOAD",
        "LOCK",
        "LOOP",
        "MERGE",
        "MSCK",
        "NOTIFY",
        "OPEN",
        "OPTIMIZE",
        "PRAGMA",
        "PREPARE",
        "PRINT",
        "PUT",
        "RAISE",
        "RAISERROR",
        "REFRESH",
        "REINDEX",
        "RELEASE",
        "REMOVE",
        "RENAME",
        "REPEAT",
        "REPLACE",
        "RESET",
        "RESTORE",
        "RETURN",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SELECT",
        "SET",
        "SHOW",
        "START",
        "SUMMARIZE",
        "THROW",
        "TRUNCATE",
        "UNCACHE",
        "UNLISTEN",
        "UNLOAD",
        "UNLOCK",
        "UPDATE",
        "UPSERT",
        "USE",
        "VACUUM",
        "VALUES",
        "WAITFOR",
        "WHILE",
        "WITH",
    ];
    match &t.token {
        Token::LParen => true,
        Token::Word(w) if w.quote_style.is_none() => {
            STARTS.contains(&w.value.to_ascii_uppercase().as_str())
        }
        _ => false,
    }
}

fn parse_piece(piece: Vec<TokenWithSpan>, dialect: Dialect, out: &mut Vec<Parsed>) {
    // The piece's tokens from `start` on are what is left to parse.
    let mut tokens = piece;
    let mut start = 0;
    let mut recoveries = 0;
    // Inside a refused statement: what parses from a later keyword on is reported as
    // recovered; what does not is no statement of the input and is not reported (the
    // refused statement's own error already is).
    let mut recovering = false;
    // Semicolons between statements found inside a refused block are skipped.
    while let Some(first) = tokens[start..]
        .iter()
        .position(|t| !is_blank(t) && t.token != Token::SemiColon)
    {
        start += first;
        let at = location(&tokens[start]);
        // psql's `\copy ...` runs a COPY from the client: the same lineage.
        if tokens[start].token == Token::Backslash
            && matches!(tokens.get(start + 1).map(|t| &t.token),
                Some(Token::Word(w)) if w.keyword == Keyword::COPY)
        {
            start += 1;
        }
        if let Some((inserts, used)) = parse_multi_insert(&tokens[start..], dialect) {
            for (location, stmt) in inserts {
                out.push(Parsed {
                    location,
                    result: Ok(Box::new(stmt)),
                    recognized: None,
                    recovered: recovering,
                    partial: None,
                });
            }
            start += used;
            continue;
        }
        // The parser takes the tokens it reads (without the ones already parsed).
        tokens.drain(..start);
        let (outcome, back) = parse_one(tokens, dialect);
        tokens = back;
        match outcome {
            Outcome::Complete(stmt, used) => {
                out.push(Parsed {
                    location: at,
                    result: Ok(stmt),
                    recognized: None,
                    recovered: recovering,
                    partial: None,
                });
                if used == 0 {
                    return;
                }
                start = used;
                // Anything left is parsed as the next statement.
            }
            Outcome::Partial(stmt, used, error) => {
                // The prefix's lineage, with the error: the rest of the statement is
                // searched for statements like a refused one's.
                out.push(Parsed {
                    location: at,
                    result: Ok(stmt),
                    recognized: None,
                    recovered: recovering,
                    partial: (!recovering).then_some(error),
                });
                recovering = true;
                start = used.max(1);
            }
            Outcome::Failed(e) => {
                let recognized = if recovering { None } else { recognize(&tokens) };
                let whole = recognized.is_some();
                if !recovering {
                    out.push(Parsed {
                        location: at,
                        result: Err(e),
                        recognized,
                        recovered: false,
                        partial: None,
                    });
                }
                if whole {
                    // A recognized statement spans the rest of the piece.
                    return;
                }
                recovering = true;
                recoveries += 1;
                if recoveries > MAX_RECOVERIES {
                    return;
                }
                match tokens.iter().skip(1).position(starts_statement) {
                    Some(i) => start = i + 1,
                    None => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::keywords::{ALL_KEYWORDS, ALL_KEYWORDS_INDEX};

    fn fixture(path: &str) -> serde_json::Value {
        let path = format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Every statement of the parse once from per-character whitespace tokens and once
    /// from collapsed runs (what the splitter uses): the same statements, spans included,
    /// or the same refusal.
    fn parse_both_ways(sql: &str, dialect: Dialect) -> (String, String) {
        let d = dialect.parser_dialect();
        let parse = |collapse: bool| {
            let tokens = match Tokenizer::new(d.as_ref(), sql)
                .with_collapsed_whitespace(collapse)
                .tokenize_with_location()
            {
                Ok(t) => t,
                Err(e) => return format!("tokenizer error: {e}"),
            };
            match Parser::new(d.as_ref())
                .with_recursion_limit(PARSER_RECURSION_LIMIT)
                .with_tokens_with_locations(tokens)
                .parse_statements()
            {
                Ok(statements) => without_whitespace_spans(&format!("{statements:?}")),
                Err(_) => "refused".to_string(),
            }
        };
        (parse(false), parse(true))
    }

    /// A few AST nodes keep a whitespace token they happened to stand on (SQLite's
    /// `REPLACE INTO` keeps the one before `REPLACE` as its INSERT token); a run's token
    /// spans the run, so such spans are blanked: `Whitespace(..), span: Span(...)`.
    fn without_whitespace_spans(debug: &str) -> String {
        let mut out = String::with_capacity(debug.len());
        let mut rest = debug;
        while let Some(at) = rest.find("token: Whitespace(") {
            let (head, tail) = rest.split_at(at);
            out.push_str(head);
            let span = tail.find("span: Span(").expect("a token's span");
            let end = span + tail[span..].find(")) }").expect("the span's end");
            out.push_str(&tail[..span]);
            out.push_str("span: _");
            rest = &tail[end + ")) ".len()..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn collapsed_whitespace_parses_the_same_statements() {
        let mut texts: Vec<(String, Dialect)> = Vec::new();
        for case in fixture("sql-dialects/cases.json").as_array().unwrap() {
            let name = case["dialect"].as_str().unwrap();
            texts.push((case["sql"].as_str().unwrap().into(), name.parse().unwrap()));
        }
        for case in fixture("sql-conformance/cases.json").as_array().unwrap() {
            let dialect = case["dialect"].as_str().unwrap_or("generic").parse();
            texts.push((case["sql"].as_str().unwrap().into(), dialect.unwrap()));
        }
        let tpc = fixture("sql-bench/tpc.json");
        for key in ["tpch", "tpcds"] {
            for q in tpc[key]["queries"].as_array().unwrap() {
                texts.push((q["sql"].as_str().unwrap().into(), Dialect::Generic));
            }
        }
        let mut parsed = 0;
        for (sql, dialect) in &texts {
            let (each, collapsed) = parse_both_ways(sql, *dialect);
            assert_eq!(each, collapsed, "{dialect:?}:\n{sql}");
            parsed += usize::from(each != "refused" && !each.starts_with("tokenizer"));
        }
        // Most texts parse whole, so the comparison is of statements, not of refusals.
        assert!(parsed > texts.len() / 2, "{parsed} of {}", texts.len());
    }

    #[test]
    fn a_run_of_whitespace_is_one_token_of_its_kind() {
        let d = Dialect::Generic.parser_dialect();
        let kinds = |sql: &str| -> Vec<String> {
            Tokenizer::new(d.as_ref(), sql)
                .with_collapsed_whitespace(true)
                .tokenize()
                .unwrap()
                .iter()
                .map(|t| format!("{t:?}"))
                .collect()
        };
        let word = |w: &str| format!("{:?}", Token::make_word(w, None));
        let ws = |w: sqlparser::tokenizer::Whitespace| format!("{:?}", Token::Whitespace(w));
        use sqlparser::tokenizer::Whitespace::{Newline, Space, Tab};
        assert_eq!(kinds("a  \t b"), [word("a"), ws(Space), word("b")]);
        assert_eq!(kinds("a\t\tb"), [word("a"), ws(Tab), word("b")]);
        assert_eq!(kinds("a \r\n  b"), [word("a"), ws(Newline), word("b")]);
        assert_eq!(kinds("a\n"), [word("a"), ws(Newline)]);
        // A `--` comment still ends at its line break, which starts the next run.
        assert_eq!(
            kinds("a -- c\n  b").len(),
            5,
            "a, space, comment (with its newline), spaces, b"
        );
    }

    #[test]
    fn keywords_are_found_in_any_case_and_nothing_else_is() {
        for (i, keyword) in ALL_KEYWORDS.iter().enumerate() {
            for spelling in [keyword.to_string(), keyword.to_lowercase()] {
                let Token::Word(w) = Token::make_word(&spelling, None) else {
                    panic!("{spelling}: not a word");
                };
                assert_eq!(w.keyword, ALL_KEYWORDS_INDEX[i], "{spelling}");
            }
            let Token::Word(quoted) = Token::make_word(keyword, Some('"')) else {
                panic!("{keyword}: not a word");
            };
            assert_eq!(quoted.keyword, Keyword::NoKeyword, "\"{keyword}\"");
        }
        for word in [
            "",
            "selec",
            "selectt",
            "x",
            "séléct",
            "SELECT_",
            "customer_sk",
        ] {
            let Token::Word(w) = Token::make_word(word, None) else {
                panic!("{word}: not a word");
            };
            assert_eq!(w.keyword, Keyword::NoKeyword, "{word}");
        }
    }
}
