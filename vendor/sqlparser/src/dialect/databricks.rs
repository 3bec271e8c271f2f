// Licensed to the Apache Software Foundation (ASF) under one
// or more contributor license agreements.  See the NOTICE file
// distributed with this work for additional information
// regarding copyright ownership.  The ASF licenses this file
// to you under the Apache License, Version 2.0 (the
// "License"); you may not use this file except in compliance
// with the License.  You may obtain a copy of the License at
//
//   http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing,
// software distributed under the License is distributed on an
// "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
// KIND, either express or implied.  See the License for the
// specific language governing permissions and limitations
// under the License.

use crate::dialect::Dialect;
use crate::keywords::Keyword;
use crate::parser::Parser;

/// A [`Dialect`] for [Databricks SQL](https://www.databricks.com/)
///
/// See <https://docs.databricks.com/en/sql/language-manual/index.html>.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DatabricksDialect;

impl Dialect for DatabricksDialect {
    /// Headwaters: Delta's `FIRST` / `AFTER col` in ADD COLUMNS and CHANGE COLUMN.
    fn supports_alter_column_position(&self) -> bool {
        true
    }

    /// Headwaters: the try-cast operator `expr ?::type` binds like `::`.
    fn get_next_precedence(
        &self,
        parser: &Parser,
    ) -> Option<Result<u8, crate::parser::ParserError>> {
        use crate::tokenizer::Token;
        if matches!(&parser.peek_token_ref().token, Token::Placeholder(p) if p == "?")
            && parser.peek_nth_token_ref(1).token == Token::DoubleColon
        {
            return Some(Ok(self.prec_value(crate::dialect::Precedence::DoubleColon)));
        }
        None
    }

    /// Headwaters: `expr ?::type` is `TRY_CAST(expr AS type)`.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &crate::ast::Expr,
        precedence: u8,
    ) -> Option<Result<crate::ast::Expr, crate::parser::ParserError>> {
        use crate::tokenizer::Token;
        if matches!(&parser.peek_token_ref().token, Token::Placeholder(p) if p == "?")
            && parser.peek_nth_token_ref(1).token == Token::DoubleColon
        {
            parser.advance_token();
            parser.advance_token();
            return Some(parser.parse_data_type().map(|data_type| crate::ast::Expr::Cast {
                kind: crate::ast::CastKind::TryCast,
                expr: Box::new(expr.clone()),
                data_type,
                format: None,
            }));
        }
        // Headwaters: `a DIV b`, integer division.
        super::parse_div_infix(parser, expr, precedence)
    }

    // see https://docs.databricks.com/en/sql/language-manual/sql-ref-identifiers.html

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        matches!(ch, '`')
    }

    /// Aliases are identifiers, see `column_alias` in
    /// <https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-qry-select.html> and
    /// <https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-identifiers.html>
    fn supports_string_literal_column_alias(&self, _explicit: bool) -> bool {
        false
    }

    /// Aliases are identifiers, see
    /// <https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-identifiers.html>
    fn supports_string_literal_table_alias(&self, _explicit: bool) -> bool {
        false
    }

    fn supports_comparison_in_between_low_bound(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/en/sql/language-manual/sql-ref-identifiers.html>
    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('`')
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        matches!(ch, 'a'..='z' | 'A'..='Z' | '_')
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        matches!(ch, 'a'..='z' | 'A'..='Z' | '0'..='9' | '_')
    }

    /// Databricks permits [keywords](https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-reserved-words) as table names.
    fn is_table_factor(&self, _kw: &Keyword, _parser: &mut Parser) -> bool {
        true
    }

    fn supports_numeric_prefix(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    // https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-qry-select-groupby.html
    fn supports_group_by_expr(&self) -> bool {
        true
    }

    /// <https://docs.databricks.com/gcp/en/delta/history#delta-time-travel-syntax>
    fn supports_table_versioning(&self) -> bool {
        true
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    // https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-qry-select.html#syntax
    fn supports_select_wildcard_except(&self) -> bool {
        true
    }

    fn require_interval_qualifier(&self) -> bool {
        true
    }

    // See https://docs.databricks.com/en/sql/language-manual/functions/struct.html
    fn supports_struct_literal(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-comment>
    fn supports_nested_comments(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-qry-select-groupby.html>
    fn supports_group_by_with_modifier(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-qry-select-values.html>
    fn supports_values_as_table_factor(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/en/sql/language-manual/delta-optimize.html>
    fn supports_optimize_table(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/aws/en/sql/language-manual/functions/bangsign>
    fn supports_bang_not_operator(&self) -> bool {
        true
    }

    /// See <https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-qry-select-cte>
    fn supports_cte_without_as(&self) -> bool {
        true
    }

    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }

    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }

    fn supports_data_type_collation(&self) -> bool {
        true
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }

    fn supports_select_wildcard_replace(&self) -> bool {
        true
    }

    fn supports_from_first_select(&self) -> bool {
        true
    }

    fn supports_pipe_operator(&self) -> bool {
        true
    }
}
