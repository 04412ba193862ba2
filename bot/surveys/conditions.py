"""XLSForm's small expression language for `relevant` and `constraint`: parsed and evaluated here.

Written by hand because nothing in Python evaluates these expressions: pyxform only rewrites
`${name}` references and checks syntax when it builds the XForm, and ODK's evaluator (JavaRosa)
is Java. The subset is what neighbourhood surveys use; anything beyond it is refused by name when
a form is imported, so a form never behaves in Hamgam differently from what staff expect.

Semantics follow XPath 1.0 as ODK applies them: an unanswered question is the empty string; a
comparison with a number turns the other side into a number, and text that is not a number (the
empty string included) is NaN, so `=` is false and `!=` is true; `<` and friends compare numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from bot.i18n.normalize import normalize_text, parse_decimal

Value = str | Decimal | tuple[str, ...]
"""A stored answer: text, a choice name or "yes"/"no"; a number; the choice names of a multiple."""

_NAN = Decimal("NaN")
_DIGIT = "0-9۰-۹٠-٩"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
    | (?P<ref>\$\{{(?P<refname>[^}}]*)\}})
    | (?P<number>[{_DIGIT}]+(?:[.٫][{_DIGIT}]+)?|[.٫][{_DIGIT}]+)
    | (?P<string>'[^']*'|"[^"]*")
    | (?P<op>!=|<=|>=|=|<|>|\(|\)|,|-)
    | (?P<dot>\.\.?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    | (?P<other>.)
    """,
    re.VERBOSE,
)
_ARITHMETIC = {"+", "-", "*", "div", "mod"}
_FUNCTIONS = {"selected", "count-selected", "string-length", "not"}


class ConditionError(ValueError):
    """An expression outside the supported subset; `detail` says what, in English."""

    def __init__(self, expression: str, detail: str) -> None:
        super().__init__(f'cannot use "{expression}": {detail}')
        self.expression = expression
        self.detail = detail


# ---- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Decimal


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Answer:
    """`${name}`, or `.` (the answer being checked) when name is None."""

    name: str | None


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic:
    op: str  # "and" or "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Selected:
    answer: Answer
    choice: str


@dataclass(frozen=True)
class CountSelected:
    answer: Answer


@dataclass(frozen=True)
class StringLength:
    answer: Answer


Node = Number | Text | Answer | Compare | Logic | Not | Selected | CountSelected | StringLength


def _children(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Compare | Logic):
        yield from _children(node.left)
        yield from _children(node.right)
    elif isinstance(node, Not):
        yield from _children(node.operand)
    elif isinstance(node, Selected | CountSelected | StringLength):
        yield node.answer


@dataclass(frozen=True)
class Condition:
    source: str
    root: Node

    def evaluate(self, answers: Mapping[str, Value], current: Value | None = None) -> bool:
        """True when the condition holds; `current` is what `.` stands for."""
        return _truth(_evaluate(self.root, answers, current))

    @property
    def names(self) -> tuple[str, ...]:
        """The questions named with `${…}`, in order of first mention."""
        seen = (node.name for node in _children(self.root) if isinstance(node, Answer))
        return tuple(dict.fromkeys(name for name in seen if name is not None))

    @property
    def uses_current(self) -> bool:
        return any(isinstance(n, Answer) and n.name is None for n in _children(self.root))

    @property
    def selections(self) -> tuple[tuple[str | None, str], ...]:
        """(question name or None for `.`, choice name) for every selected(), to check names."""
        return tuple(
            (node.answer.name, node.choice)
            for node in _children(self.root)
            if isinstance(node, Selected)
        )

    @property
    def conjuncts(self) -> tuple[Node, ...]:
        """The parts joined by top-level `and` (one part when there is none)."""

        def split(node: Node) -> Iterator[Node]:
            if isinstance(node, Logic) and node.op == "and":
                yield from split(node.left)
                yield from split(node.right)
            else:
                yield node

        return tuple(split(self.root))


# ---- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokens(expression: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        text = match.group("refname").strip() if kind == "ref" else match.group()
        if kind == "other" or (kind == "dot" and text == ".."):
            raise ConditionError(expression, _unexpected(text))
        tokens.append(_Token(kind, text))
    return tokens


def _unexpected(text: str) -> str:
    if text in _ARITHMETIC:
        return f"arithmetic ({text}) is not supported"
    if text in {"/", "..", "@", "[", "]", "|"}:
        return f"paths and node sets ({text}) are not supported"
    return f'unexpected "{text}"'


class _Parser:
    """Recursive descent over XPath's precedence: or < and < = != < < <= > >= < the rest."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.at = 0

    def fail(self, detail: str) -> ConditionError:
        return ConditionError(self.expression, detail)

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.fail("the expression ends too early")
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise self.fail(f'expected "{text}" but found "{token.text}"')

    def is_word(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text in words

    def parse(self) -> Node:
        if not self.tokens:
            raise self.fail("the expression is empty")
        node = self.either()
        token = self.peek()
        if token is not None:
            raise self.fail(_unexpected(token.text))
        return node

    def either(self) -> Node:
        node = self.both()
        while self.is_word("or"):
            self.take()
            node = Logic("or", node, self.both())
        return node

    def both(self) -> Node:
        node = self.equality()
        while self.is_word("and"):
            self.take()
            node = Logic("and", node, self.equality())
        return node

    def equality(self) -> Node:
        node = self.relation()
        while (token := self.peek()) is not None and token.text in {"=", "!="}:
            self.take()
            node = Compare(token.text, node, self.relation())
        return node

    def relation(self) -> Node:
        node = self.primary()
        while (token := self.peek()) is not None and token.text in {"<", "<=", ">", ">="}:
            self.take()
            node = Compare(token.text, node, self.primary())
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number" or (token.text == "-" and self._number_follows()):
            text = token.text if token.kind == "number" else "-" + self.take().text
            number = parse_decimal(text)
            if number is None:  # pragma: no cover - the token pattern admits only numbers
                raise self.fail(f'"{text}" is not a number')
            return Number(number)
        if token.kind == "string":
            return Text(normalize_text(token.text[1:-1]))
        if token.kind == "ref":
            return self.answer_named(token.text)
        if token.kind == "dot":
            return Answer(None)
        if token.text == "(":
            node = self.either()
            self.expect(")")
            return node
        if token.kind == "word":
            return self.call(token.text)
        raise self.fail(_unexpected(token.text))

    def _number_follows(self) -> bool:
        token = self.peek()
        return token is not None and token.kind == "number"

    def answer_named(self, name: str) -> Answer:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
            raise self.fail(f'"${{{name}}}" does not name a question')
        return Answer(name)

    def call(self, word: str) -> Node:
        following = self.peek()
        if following is None or following.text != "(":
            if word in _ARITHMETIC:
                raise self.fail(_unexpected(word))
            raise self.fail(f'unexpected word "{word}" (write questions as ${{name}})')
        if word not in _FUNCTIONS:
            raise self.fail(f"the function {word}() is not supported")
        self.expect("(")
        if word == "not":
            node: Node = Not(self.either())
        else:
            argument = self.primary()
            if not isinstance(argument, Answer):
                raise self.fail(f"{word}() takes ${{name}} or .")
            if word == "selected":
                self.expect(",")
                choice = self.primary()
                if not isinstance(choice, Text):
                    raise self.fail("selected() takes a quoted choice name second")
                node = Selected(argument, choice.value)
            elif word == "count-selected":
                node = CountSelected(argument)
            else:
                node = StringLength(argument)
        self.expect(")")
        return node


@lru_cache(maxsize=1024)
def parse(expression: str) -> Condition:
    """The expression as a Condition, or ConditionError naming what is not supported."""
    return Condition(expression, _Parser(expression).parse())


# ---- evaluation -------------------------------------------------------------------------------

_Result = bool | Decimal | str


def _text(value: Value | None) -> str:
    """XPath's string value of an answer: multiple choices are space-separated, as in ODK."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple):
        return " ".join(value)
    return value


def _number(value: _Result) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    number = parse_decimal(value)
    return _NAN if number is None else number


def _truth(value: _Result) -> bool:
    if isinstance(value, Decimal):
        return not value.is_nan() and value != 0
    return bool(value)


def _evaluate(node: Node, answers: Mapping[str, Value], current: Value | None) -> _Result:
    match node:
        case Number(value) | Text(value):
            return value
        case Answer(name):
            return _text(current if name is None else answers.get(name))
        case Logic("and", left, right):
            return _truth(_evaluate(left, answers, current)) and _truth(
                _evaluate(right, answers, current)
            )
        case Logic(_, left, right):
            return _truth(_evaluate(left, answers, current)) or _truth(
                _evaluate(right, answers, current)
            )
        case Not(operand):
            return not _truth(_evaluate(operand, answers, current))
        case Selected(answer, choice):
            return choice in str(_evaluate(answer, answers, current)).split()
        case CountSelected(answer):
            return Decimal(len(str(_evaluate(answer, answers, current)).split()))
        case StringLength(answer):
            return Decimal(len(str(_evaluate(answer, answers, current))))
        case Compare(op, left, right):
            left_value = _evaluate(left, answers, current)
            return _compare(op, left_value, _evaluate(right, answers, current))
    raise AssertionError(node)  # pragma: no cover


def _compare(op: str, left: _Result, right: _Result) -> bool:
    if op in {"=", "!="}:
        if isinstance(left, bool) or isinstance(right, bool):
            equal = _truth(left) == _truth(right)
        elif isinstance(left, Decimal) or isinstance(right, Decimal):
            a, b = _number(left), _number(right)
            equal = not (a.is_nan() or b.is_nan()) and a == b
        else:
            equal = left == right
        return equal if op == "=" else not equal
    a, b = _number(left), _number(right)
    if a.is_nan() or b.is_nan():
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
