"""A small GraphQL parser: enough of the language for what Rolecall sends.

Operations (query/mutation, named or not, with variables), fields with aliases and
arguments, nested selections, fragments (named and inline), and every value kind.
Directives are parsed and ignored. A syntax error becomes GitHub's GraphQL error
shape instead of a crash, so a malformed query fails like it would on GitHub.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\")
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<punct>\.\.\.|[!$():=@\[\]{}|&])
    """,
    re.VERBOSE,
)


class GraphQLSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None
    arguments: dict[str, Any]
    selections: list[Selection] = field(default_factory=list)
    line: int = 1
    column: int = 1

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class FragmentSpread:
    name: str


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Selection]


Selection = Field | FragmentSpread | InlineFragment


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    name: str | None
    variable_defaults: dict[str, Any]
    selections: list[Selection]


@dataclass
class Document:
    operations: list[Operation]
    fragments: dict[str, list[Selection]]


@dataclass
class _Tok:
    kind: str
    text: str
    line: int
    column: int


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    line, line_start = 1, 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise GraphQLSyntaxError(
                f'Parse error on "{source[pos]}" at [{line}, {pos - line_start + 1}]',
                line,
                pos - line_start + 1,
            )
        kind = match.lastgroup or "ws"
        text = match.group()
        if kind != "ws":
            tokens.append(_Tok(kind, text, line, pos - line_start + 1))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rindex("\n") + 1
        pos = match.end()
    tokens.append(_Tok("eof", "", line, pos - line_start + 1))
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.i]

    def fail(self) -> GraphQLSyntaxError:
        tok = self.tok
        shown = tok.text or "end of file"
        return GraphQLSyntaxError(
            f'Parse error on "{shown}" ({tok.kind.upper()}) at [{tok.line}, {tok.column}]',
            tok.line,
            tok.column,
        )

    def peek(self, text: str) -> bool:
        return self.tok.text == text and self.tok.kind in ("punct", "name")

    def take(self, text: str) -> _Tok:
        if not self.peek(text):
            raise self.fail()
        tok = self.tok
        self.i += 1
        return tok

    def name(self) -> str:
        if self.tok.kind != "name":
            raise self.fail()
        text = self.tok.text
        self.i += 1
        return text

    # grammar -----------------------------------------------------------------------

    def document(self) -> Document:
        doc = Document([], {})
        while self.tok.kind != "eof":
            if self.peek("{"):
                doc.operations.append(Operation("query", None, {}, self.selection_set()))
            elif self.peek("fragment"):
                self.take("fragment")
                name = self.name()
                self.take("on")
                self.name()
                self.directives()
                doc.fragments[name] = self.selection_set()
            elif self.peek("query") or self.peek("mutation") or self.peek("subscription"):
                kind = self.name()
                op_name = self.name() if self.tok.kind == "name" else None
                defaults = self.variable_definitions() if self.peek("(") else {}
                self.directives()
                doc.operations.append(Operation(kind, op_name, defaults, self.selection_set()))
            else:
                raise self.fail()
        if not doc.operations:
            raise self.fail()
        return doc

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        self.take("(")
        while not self.peek(")"):
            self.take("$")
            name = self.name()
            self.take(":")
            self.type_ref()
            if self.peek("="):
                self.take("=")
                defaults[name] = self.value()
            self.directives()
        self.take(")")
        return defaults

    def type_ref(self) -> None:
        if self.peek("["):
            self.take("[")
            self.type_ref()
            self.take("]")
        else:
            self.name()
        if self.peek("!"):
            self.take("!")

    def directives(self) -> None:
        while self.peek("@"):
            self.take("@")
            self.name()
            if self.peek("("):
                self.arguments()

    def selection_set(self) -> list[Selection]:
        self.take("{")
        selections: list[Selection] = []
        while not self.peek("}"):
            selections.append(self.selection())
        self.take("}")
        if not selections:
            raise self.fail()
        return selections

    def selection(self) -> Selection:
        if self.peek("..."):
            self.take("...")
            if self.peek("on"):
                self.take("on")
                condition = self.name()
                self.directives()
                return InlineFragment(condition, self.selection_set())
            if self.peek("{") or self.peek("@"):
                self.directives()
                return InlineFragment(None, self.selection_set())
            spread = FragmentSpread(self.name())
            self.directives()
            return spread
        start = self.tok
        first = self.name()
        alias: str | None = None
        name = first
        if self.peek(":"):
            self.take(":")
            alias, name = first, self.name()
        arguments = self.arguments() if self.peek("(") else {}
        self.directives()
        selections = self.selection_set() if self.peek("{") else []
        return Field(name, alias, arguments, selections, start.line, start.column)

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        self.take("(")
        while not self.peek(")"):
            name = self.name()
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        tok = self.tok
        if self.peek("$"):
            self.take("$")
            return Variable(self.name())
        if self.peek("["):
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if self.peek("{"):
            self.take("{")
            obj: dict[str, Any] = {}
            while not self.peek("}"):
                key = self.name()
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        self.i += 1
        if tok.kind == "number":
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "string":
            return json.loads(tok.text)
        if tok.kind == "block":
            return tok.text[3:-3].strip("\n")
        if tok.kind == "name":
            return {"true": True, "false": False, "null": None}.get(tok.text, EnumValue(tok.text))
        self.i -= 1
        raise self.fail()


def parse(source: str) -> Document:
    return _Parser(source).document()


def resolve_value(value: Any, variables: dict[str, Any]) -> Any:
    """An argument's value with variables substituted (enums become their names)."""
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [resolve_value(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve_value(v, variables) for k, v in value.items()}
    return value
