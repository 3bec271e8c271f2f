//! Splitting a script into statements and parsing each on its own, so one bad
//! statement does not hide the lineage of the others.

use sqlparser::ast::Statement;
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
            flush(&mut current, dialect, &mut out);
            depth = 0;
        } else {
            current.push(t);
        }
    }
    flush(&mut current, dialect, &mut out);
    out
}

fn flush(tokens: &mut Vec<TokenWithSpan>, dialect: Dialect, out: &mut Vec<Parsed>) {
    let piece = std::mem::take(tokens);
    let Some(first) = piece
        .iter()
        .find(|t| !matches!(t.token, Token::Whitespace(_)))
    else {
        return;
    };
    let location = Location {
        line: first.span.start.line,
        column: first.span.start.column,
    };
    let d = dialect.parser_dialect();
    let mut parser = Parser::new(d.as_ref())
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(piece);
    let result = match parser.parse_statement() {
        Ok(stmt) => {
            let next = parser.peek_token();
            if next.token == Token::EOF {
                Ok(stmt)
            } else {
                Err(format!(
                    "unexpected {} after the end of the statement at Line: {}, Column: {}",
                    next.token, next.span.start.line, next.span.start.column
                ))
            }
        }
        Err(e) => Err(e.to_string()),
    };
    out.push(Parsed { location, result });
}
