//! Splitting a script into statements and parsing each on its own, so one bad
//! statement does not hide the lineage of the others.
//!
//! A piece between top-level semicolons is parsed as one statement. What follows a
//! complete statement is parsed as further statements (T-SQL needs no semicolons); what
//! cannot be parsed is reported, and parsing resumes at the next keyword that can start
//! a statement (so the INSERT inside a procedure body still yields lineage).

use sqlparser::ast::Statement;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::dialect::Dialect;
use crate::model::Location;

/// One statement of a script: where it starts, and the parse result.
pub(crate) struct Parsed {
    pub(crate) location: Location,
    pub(crate) result: Result<Statement, String>,
}

/// Nesting limit handed to the parser (it reports deeper input as an error).
const PARSER_RECURSION_LIMIT: usize = 64;

/// Attempts to resume after a parse error, per piece (bounds the work on bad input).
const MAX_RECOVERIES: usize = 32;

/// Tokenizes `sql`, splits it at top-level semicolons and parses each piece.
pub(crate) fn statements(sql: &str, dialect: Dialect) -> Vec<Parsed> {
    let d = dialect.parser_dialect();
    let tokens = match Tokenizer::new(d.as_ref(), sql).tokenize_with_location() {
        Ok(t) => t,
        Err(e) => {
            let location = Location {
                line: e.location.line,
                column: e.location.column,
            };
            return vec![Parsed {
                location,
                result: Err(e.message),
            }];
        }
    };
    let mut out = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    let mut depth = 0i64;
    for t in tokens {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        if t.token == Token::SemiColon && depth <= 0 {
            parse_piece(&std::mem::take(&mut current), dialect, &mut out);
            depth = 0;
        } else {
            current.push(t);
        }
    }
    parse_piece(&current, dialect, &mut out);
    out
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

fn parse_piece(piece: &[TokenWithSpan], dialect: Dialect, out: &mut Vec<Parsed>) {
    let mut rest = piece;
    let mut recoveries = 0;
    while let Some(first) = rest.iter().position(|t| !is_blank(t)) {
        rest = &rest[first..];
        let at = location(&rest[0]);
        let d = dialect.parser_dialect();
        let mut parser = Parser::new(d.as_ref())
            .with_recursion_limit(PARSER_RECURSION_LIMIT)
            .with_tokens_with_locations(rest.to_vec());
        match parser.parse_statement() {
            Ok(stmt) => {
                out.push(Parsed {
                    location: at,
                    result: Ok(stmt),
                });
                let used = parser.index().min(rest.len());
                if used == 0 {
                    return;
                }
                rest = &rest[used..];
                // Anything left is parsed as the next statement.
            }
            Err(e) => {
                out.push(Parsed {
                    location: at,
                    result: Err(e.to_string()),
                });
                recoveries += 1;
                if recoveries > MAX_RECOVERIES {
                    return;
                }
                match rest.iter().skip(1).position(starts_statement) {
                    Some(i) => rest = &rest[i + 1..],
                    None => return,
                }
            }
        }
    }
}
