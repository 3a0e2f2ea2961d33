"""Reading a ``--where`` SQL condition safely.

The text is one SQL *expression* (``lifetime_value > 1000 AND country = 'FR'``),
read with sqlglot's DuckDB dialect, never a statement. Semicolons, comments and
statement keywords are refused from the tokens; the syntax tree is then checked
against an allow-list (:mod:`audiencesync.segments.allowlist`). What reaches an
engine is always sqlglot's re-rendering of the checked tree, never this text.
"""

from __future__ import annotations

from sqlglot import exp, parse_one
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokenizer_core import Token, TokenType

from audiencesync.errors import RuleError
from audiencesync.segments.allowlist import check_tree
from audiencesync.segments.model import WhereDefinition

READ_DIALECT = "duckdb"
MAX_WHERE_LENGTH = 10_000
EXAMPLE = "lifetime_value > 1000 AND country = 'FR'"

_STATEMENT_WORDS = frozenset(
    {
        "ALTER", "ATTACH", "CALL", "CHECKPOINT", "COMMIT", "COPY", "CREATE",
        "DELETE", "DETACH", "DROP", "EXEC", "EXECUTE", "EXPORT", "GRANT",
        "IMPORT", "INSERT", "INSTALL", "LOAD", "MERGE", "PRAGMA", "REVOKE",
        "ROLLBACK", "SET", "TRUNCATE", "UPDATE", "VACUUM",
    }
)  # fmt: skip
_LITERAL_TOKENS = frozenset({TokenType.STRING, TokenType.IDENTIFIER})


def parse_where(text: str) -> WhereDefinition:
    """A checked ``--where`` definition; RuleError says what and where is wrong."""
    sql = text.strip()
    parse_where_tree(sql)
    return WhereDefinition(sql=sql)


def parse_where_tree(sql: str) -> exp.Expr:
    """The syntax tree of ``sql`` once it passed every check."""
    if not sql.strip():
        msg = f"The condition is empty: write one such as {EXAMPLE}."
        raise RuleError(msg)
    if len(sql) > MAX_WHERE_LENGTH:
        msg = (
            f"The condition is too long ({len(sql)} characters, at most"
            f" {MAX_WHERE_LENGTH})."
        )
        raise RuleError(msg)
    _check_text(sql)
    _check_tokens(_tokens(sql))
    tree = _parse(sql)
    # Belt and braces: sqlglot keeps comments on nodes; the tokens had none.
    if any(node.comments for node in tree.walk()):
        raise RuleError(_COMMENT_MESSAGE)
    check_tree(tree)
    return tree


def _check_text(sql: str) -> None:
    """Refuse bytes that were not UTF-8 (they reach us as lone surrogates)."""
    for position, char in enumerate(sql, start=1):
        if "\ud800" <= char <= "\udfff":
            msg = (
                f"The condition holds a byte that is not UTF-8 text at character"
                f" {position}. Type the condition again as UTF-8."
            )
            raise RuleError(msg)


_COMMENT_MESSAGE = "Comments (-- or /* */) are not allowed in a condition: remove them."


def _tokens(sql: str) -> list[Token]:
    try:
        return Dialect.get_or_raise(READ_DIALECT).tokenize(sql)
    except TokenError as exc:
        msg = (
            f"Could not read the condition: {exc}. Check that every quote is"
            " closed: text goes in 'single quotes', names in \"double quotes\"."
        )
        raise RuleError(msg) from exc


def _check_tokens(tokens: list[Token]) -> None:
    for token in tokens:
        where = f"at line {token.line}, column {_start(token)}"
        if token.comments:
            raise RuleError(_COMMENT_MESSAGE)
        if token.token_type is TokenType.SEMICOLON:
            msg = (
                f'A condition is one expression: remove the ";" {where} and'
                " what follows."
            )
            raise RuleError(msg)
        word = token.text.upper()
        if token.token_type not in _LITERAL_TOKENS and word in _STATEMENT_WORDS:
            msg = (
                f"{word} {where} is not allowed: a condition only tests values,"
                f" e.g. {EXAMPLE}. If {token.text} is a column, write it in"
                f' double quotes: "{token.text}".'
            )
            raise RuleError(msg)


def _parse(sql: str) -> exp.Expr:
    try:
        return parse_one(sql, read=READ_DIALECT, into=exp.Condition)
    except ParseError as exc:
        raise RuleError(_parse_message(exc)) from exc
    except (SqlglotError, RecursionError) as exc:
        msg = f"Could not read the condition: write one such as {EXAMPLE}."
        raise RuleError(msg) from exc


def _parse_message(exc: ParseError) -> str:
    if not exc.errors:
        return f"Could not read the condition: write one such as {EXAMPLE}."
    error = exc.errors[0]
    highlight = str(error.get("highlight") or "")
    column = max(1, int(error.get("col") or 1) - len(highlight) + 1)
    description = str(error.get("description") or "")
    reason = (
        "something is missing"
        if description.startswith("Required")
        else "unexpected text"
    )
    return (
        f"Could not read the condition at line {error.get('line')}, column {column}"
        f' (near "{highlight}"): {reason}. Write a condition such as {EXAMPLE}.'
    )


def _start(token: Token) -> int:
    return max(1, token.col - len(token.text) + 1)
