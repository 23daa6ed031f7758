"""Label and field selectors, parsed and matched as Kubernetes does.

The API filters lists and watches with them (`?labelSelector=`, `?fieldSelector=`); the replication
and endpoints controllers find an RC's or a Service's pods with them; Scale prints one. Grammar and
error wording follow apimachinery, so a bad selector reaches kubectl as the same 400 message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bosun.errors import PermanentError

__all__ = [
    "DOES_NOT_EXIST", "DOUBLE_EQUALS", "EQUALS", "EVERYTHING", "EXISTS", "GREATER_THAN", "IN",
    "LESS_THAN", "NOTHING", "NOT_EQUALS", "NOT_IN", "FieldRequirement", "FieldSelector",
    "InvalidSelector", "Requirement", "Selector", "escape_field_value", "label_key_errors",
    "label_value_errors", "parse_field_selector", "parse_label_selector", "selectable_fields",
    "selector_from_label_selector", "selector_from_set", "selector_to_string", "supported_fields",
]


class InvalidSelector(PermanentError):
    """A label or field selector Kubernetes would refuse; the message is Kubernetes' own wording.

    The API answers it with 400 BadRequest and this message.
    """


# Operators, spelled as apimachinery's selection.Operator values.
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_SYMBOLS = {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", GREATER_THAN: ">",
            LESS_THAN: "<"}
_INT64 = re.compile(r"[+-]?[0-9]+")


def _parse_int64(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64), None where it fails."""
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


# -- label selectors -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: `key operator values`."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (EXISTS, DOES_NOT_EXIST):
            return (self.key in labels) == (op == EXISTS)
        if self.key not in labels:
            return op in (NOT_IN, NOT_EQUALS)
        value = labels[self.key]
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return value in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return value not in self.values
        if op in (GREATER_THAN, LESS_THAN) and len(self.values) == 1:
            have, bound = _parse_int64(value), _parse_int64(self.values[0])
            if have is None or bound is None:
                return False
            return have > bound if op == GREATER_THAN else have < bound
        return False

    def __str__(self) -> str:
        if self.operator == DOES_NOT_EXIST:
            return "!" + self.key
        if self.operator == EXISTS:
            return self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({values})"
        return f"{self.key}{_SYMBOLS.get(self.operator, '')}{values}"


@dataclass(frozen=True)
class Selector:
    """A label selector: the AND of its requirements, kept sorted by key as Kubernetes does."""

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = False

    @classmethod
    def of(cls, requirements: Iterable[Requirement]) -> Selector:
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements and not self.selects_nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


EVERYTHING = Selector()
NOTHING = Selector(selects_nothing=True)


# -- label key and value validation (apimachinery's IsQualifiedName, IsValidLabelValue) ------------

_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
             "with an alphanumeric character")
_NAME_EXAMPLES = ("MyName", "my.name", "123-abc")
_VALUE_FMT = f"({_NAME_FMT})?"
_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', "
              "'_' or '.', and must start and end with an alphanumeric character")
_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _DNS_LABEL_FMT + r"(\." + _DNS_LABEL_FMT + ")*"
_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                  "characters, '-' or '.', and must start and end with an alphanumeric character")


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def _too_long(limit: int) -> str:
    return f"must be no more than {limit} characters"


def _byte_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _subdomain_errors(value: str) -> list[str]:
    errors = [_too_long(253)] if _byte_length(value) > 253 else []
    if not re.fullmatch(_SUBDOMAIN_FMT, value):
        errors.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com"))
    return errors


def label_key_errors(key: str) -> list[str]:
    """Why `key` is not a valid label key (`[prefix/]name`), in Kubernetes' words; [] if valid."""
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name " + _regex_error(_NAME_MSG, _NAME_FMT, *_NAME_EXAMPLES)
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errors = []
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors += ["prefix part " + e for e in _subdomain_errors(parts[0])]
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif _byte_length(name) > 63:
        errors.append("name part " + _too_long(63))
    if not re.fullmatch(_NAME_FMT, name):
        errors.append("name part " + _regex_error(_NAME_MSG, _NAME_FMT, *_NAME_EXAMPLES))
    return errors


def label_value_errors(value: str) -> list[str]:
    """Why `value` is not a valid label value, in Kubernetes' words; [] if valid."""
    errors = [_too_long(63)] if _byte_length(value) > 63 else []
    if not re.fullmatch(_VALUE_FMT, value):
        errors.append(_regex_error(_VALUE_MSG, _VALUE_FMT, "MyValue", "my_value", "12345"))
    return errors


# -- Go-formatted field errors, as field.Invalid(...).Error() prints them --------------------------

_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t",
               "\v": r"\v", "\\": "\\\\", '"': '\\"'}


def _go_quote(text: str) -> str:
    """Go's %q of a string."""
    out = []
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_value(value: str | list[str] | None) -> str:
    if isinstance(value, str):
        return _go_quote(value)
    if not value:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in value) + "}"


def _invalid(path: str, value: str | list[str] | None, detail: str) -> str:
    return f"{path}: Invalid value: {_go_value(value)}: {detail}"


def _aggregate(messages: list[str]) -> str:
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class _Fault(Exception):
    """A parse or validation failure deep in the parser, worded for the user."""


def _checked_requirement(key: str, operator: str, values: list[str] | None) -> Requirement:
    """apimachinery's NewRequirement (no field path): validate, then build."""
    errors = []
    if key_errors := label_key_errors(key):
        errors.append(_invalid("key", key, "; ".join(key_errors)))
    vals = list(values or [])
    if operator in (IN, NOT_IN) and not vals:
        errors.append(_invalid("values", values, "for 'in', 'notin' operators, values set can't "
                                                 "be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS) and len(vals) != 1:
        errors.append(_invalid("values", values, "exact-match compatibility requires one single "
                                                 "value"))
    elif operator in (EXISTS, DOES_NOT_EXIST) and vals:
        errors.append(_invalid("values", values, "values set must be empty for exists and does "
                                                 "not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errors.append(_invalid("values", values, "for 'Gt', 'Lt' operators, exactly one value "
                                                     "is required"))
        errors += [_invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an "
                                               "integer")
                   for i, v in enumerate(vals) if _parse_int64(v) is None]
    for i, value in enumerate(vals):
        if value_errors := label_value_errors(value):
            errors.append(_invalid(f"values[{i}][{key}]", value, "; ".join(value_errors)))
    if errors:
        raise _Fault(_aggregate(errors))
    return Requirement(key, operator, tuple(vals))


# -- the string form: lexer and recursive-descent parser -------------------------------------------

_END, _IDENT = "end of string", "identifier"
_WHITESPACE = " \t\r\n"
_SPECIAL = "=!(),<>"
_KEYWORDS = {IN, NOT_IN}
_OPERATOR_TOKENS = {IN: IN, NOT_IN: NOT_IN, "=": EQUALS, "==": DOUBLE_EQUALS, "!=": NOT_EQUALS,
                    ">": GREATER_THAN, "<": LESS_THAN}
_BINARY_OPERATORS = ", ".join([IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN,
                               LESS_THAN])


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens as (kind, literal); kind is the literal itself for symbols and keywords.

    A NUL character reads as end of input where a token starts and is swallowed where one ends,
    as in apimachinery's byte lexer.
    """
    tokens, pos, size = [], 0, len(text)
    while True:
        while pos < size and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= size or text[pos] == "\0":
            tokens.append((_END, ""))
            return tokens
        if text[pos] in _SPECIAL:
            width = 2 if text[pos:pos + 2] in ("==", "!=") else 1
            literal, kind = text[pos:pos + width], text[pos:pos + width]
        else:
            end = pos
            while end < size and text[end] not in _SPECIAL + _WHITESPACE + "\0":
                end += 1
            literal = text[pos:end]
            kind = literal if literal in _KEYWORDS else _IDENT
        pos += len(literal)
        if pos < size and text[pos] == "\0":
            pos += 1
        tokens.append((kind, literal))


class _Parser:
    """apimachinery's label selector grammar, one method per production."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, as_value: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[min(self.pos, len(self.tokens) - 1)]
        # In value position 'in' and 'notin' are plain identifiers ('x in (in)').
        return (_IDENT if as_value and kind in _KEYWORDS else kind), literal

    def take(self, as_value: bool = True) -> tuple[str, str]:
        token = self.peek(as_value)
        self.pos += 1
        return token

    def selector(self) -> list[Requirement]:
        requirements = []
        while True:
            kind, literal = self.peek()
            if kind == _END:
                return requirements
            if kind not in (_IDENT, "!"):
                raise _Fault(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except _Fault as fault:
                raise _Fault(f"unable to parse requirement: {fault}") from None
            kind, literal = self.take()
            if kind == _END:
                return requirements
            if kind != ",":
                raise _Fault(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in (_IDENT, "!"):
                raise _Fault(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        negated = self.peek()[0] == "!"
        if negated:
            self.take()
        kind, key = self.take()
        if kind != _IDENT:
            raise _Fault(f"found '{key}', expected: identifier")
        if key_errors := label_key_errors(key):
            raise _Fault(_invalid("<nil>", key, "; ".join(key_errors)))
        if negated:
            return _checked_requirement(key, DOES_NOT_EXIST, [])
        if self.peek()[0] in (_END, ","):
            return _checked_requirement(key, EXISTS, [])
        kind, literal = self.take(as_value=False)
        operator = _OPERATOR_TOKENS.get(kind)
        if operator is None:
            raise _Fault(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        values = self.value_set() if operator in (IN, NOT_IN) else self.exact_value()
        return _checked_requirement(key, operator, sorted(values))

    def value_set(self) -> set[str]:
        kind, literal = self.take()
        if kind != "(":
            raise _Fault(f"found '{literal}' expected: '('")
        kind, literal = self.peek()
        if kind == ")":
            self.take()
            return {""}
        if kind not in (_IDENT, ","):
            raise _Fault(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        self.take()  # the ')' identifiers() stopped at
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            kind, literal = self.take()
            if kind == _IDENT:
                values.add(literal)
                kind, literal = self.peek()
                if kind == ")":
                    return values
                if kind != ",":
                    raise _Fault(f"found '{literal}', expected: ',' or ')'")
            elif kind == ",":
                # Empty values: '(,a)', '(a,)' and '(a,,b)' all hold "".
                if not values or self.peek()[0] in (",", ")"):
                    values.add("")
                if self.peek()[0] == ")":
                    return values
                if self.peek()[0] == ",":
                    self.take()
            else:
                raise _Fault(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.peek()[0] in (_END, ","):
            return {""}
        kind, literal = self.take()
        if kind != _IDENT:
            raise _Fault(f"found '{literal}', expected: identifier")
        return {literal}


def parse_label_selector(text: str | None) -> Selector:
    """Parse a label selector's string form (`a=b,c in (x,y),!d`); "" selects everything.

    Raises InvalidSelector with Kubernetes' message, e.g. "unable to parse requirement: ...".
    """
    try:
        requirements = _Parser(text or "").selector()
    except _Fault as fault:
        raise InvalidSelector(str(fault)) from None
    return Selector.of(requirements)


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """The selector matching exactly `labels` (an RC's `spec.selector`); empty selects everything.

    Like Kubernetes' SelectorFromSet it does not validate: the object was validated on write.
    """
    if not labels:
        return EVERYTHING
    return Selector.of(Requirement(key, EQUALS, (value,)) for key, value in labels.items())


_LABEL_SELECTOR_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS,
                             "DoesNotExist": DOES_NOT_EXIST}


def selector_from_label_selector(spec: Mapping[str, Any] | None) -> Selector:
    """The selector of a structured `{matchLabels, matchExpressions}`; None selects nothing.

    Raises InvalidSelector for a bad key, value or operator, worded as Kubernetes words it.
    """
    if spec is None:
        return NOTHING
    match_labels = spec.get("matchLabels") or {}
    expressions = spec.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    try:
        requirements = [_checked_requirement(key, EQUALS, [match_labels[key]])
                        for key in sorted(match_labels)]
        for expression in expressions:
            operator = expression.get("operator")
            if operator not in _LABEL_SELECTOR_OPERATORS:
                raise _Fault(f"{_go_quote(str(operator or ''))} is not a valid label selector "
                             "operator")
            requirements.append(_checked_requirement(expression.get("key") or "",
                                                     _LABEL_SELECTOR_OPERATORS[operator],
                                                     expression.get("values")))
    except _Fault as fault:
        raise InvalidSelector(str(fault)) from None
    return Selector.of(requirements)


def selector_to_string(selector: Selector | Mapping[str, str] | None) -> str:
    """The canonical string Kubernetes prints (Scale's `status.selector`): `a=b,c=d`, sorted.

    Takes a Selector, or a label map such as an RC's `spec.selector`.
    """
    if selector is None or isinstance(selector, Mapping):
        selector = selector_from_set(selector)
    return str(selector)


# -- field selectors -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRequirement:
    """One term of a field selector: `field=value`, `field==value` or `field!=value`."""

    field: str
    operator: str
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        equal = fields.get(self.field, "") == self.value
        return not equal if self.operator == NOT_EQUALS else equal

    def __str__(self) -> str:
        symbol = "!=" if self.operator == NOT_EQUALS else "="
        return f"{self.field}{symbol}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """A field selector: the AND of its terms, for one resource when parsed for one."""

    requirements: tuple[FieldRequirement, ...] = ()
    resource: str | None = None

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, resource: str | Mapping[str, Any],
                obj: Mapping[str, Any] | None = None) -> bool:
        """matches(resource, obj), or matches(obj) for a selector parsed for its resource."""
        if obj is None:
            resource, obj = self.resource or "", resource
        if not self.requirements:
            return True
        fields = selectable_fields(str(resource), obj)
        return all(term.matches(fields) for term in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(term) for term in self.requirements)


def escape_field_value(value: str) -> str:
    """A value made safe for a field selector: `\\`, `,` and `=` escaped with a backslash."""
    return re.sub(r"[\\,=]", lambda m: "\\" + m.group(), value)


def _unescape_field_value(raw: str) -> str:
    out, escaped = [], False
    for char in raw:
        if escaped:
            if char not in "\\,=":
                raise InvalidSelector("invalid field selector: invalid escape sequence: \\" + char)
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go prints the rune as a number here (%v of a rune).
            raise InvalidSelector("invalid field selector: unescaped character in value: "
                                  f"{ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise InvalidSelector("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """Split on commas not escaped by a backslash; escapes stay in the terms."""
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """Split at the first operator; at one position '!=' and '==' win over '='."""
    for index in range(len(term)):
        for symbol, operator in (("!=", NOT_EQUALS), ("==", DOUBLE_EQUALS), ("=", EQUALS)):
            if term.startswith(symbol, index):
                return term[:index], operator, term[index + len(symbol):]
    return None


def parse_field_selector(resource: str | None, text: str | None) -> FieldSelector:
    """Parse `metadata.name=x,spec.nodeName!=y`; with a resource, check its supported fields.

    Raises InvalidSelector with Kubernetes' message: "invalid selector: ...", "field label not
    supported: spec.foo", or '"spec.foo" is not a known field selector: only ...'.
    """
    text = text or ""
    requirements = []
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise InvalidSelector(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, raw = split
        requirements.append(FieldRequirement(field, operator, _unescape_field_value(raw)))
    if resource is not None:
        requirements = [_convert_field(resource, term) for term in requirements]
    return FieldSelector(tuple(requirements), resource)


_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
# Per resource, the field labels the core/v1 conversion accepts. Resources not listed accept
# metadata.name and metadata.namespace only, and say so differently.
_FIELD_LABELS: dict[str, frozenset[str]] = {
    "pods": _META_FIELDS | {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                            "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                            "status.podIP", "status.podIPs", "status.nominatedNodeName"},
    "nodes": frozenset({"metadata.name", "spec.unschedulable"}),
    "replicationcontrollers": _META_FIELDS | {"status.replicas"},
    "events": _META_FIELDS | {
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    "namespaces": frozenset({"metadata.name", "status.phase"}),
    "services": _META_FIELDS | {"spec.clusterIP", "spec.type"},
    "secrets": _META_FIELDS | {"type"},
}
# Old v1 clients send spec.host for a pod's node.
_FIELD_ALIASES = {("pods", "spec.host"): "spec.nodeName"}


def supported_fields(resource: str) -> frozenset[str]:
    """The field labels a field selector on `resource` may use."""
    return _FIELD_LABELS.get(resource, _META_FIELDS)


def _convert_field(resource: str, term: FieldRequirement) -> FieldRequirement:
    if alias := _FIELD_ALIASES.get((resource, term.field)):
        return replace(term, field=alias)
    if resource not in _FIELD_LABELS:
        if term.field in _META_FIELDS:
            return term
        raise InvalidSelector(f"{_go_quote(term.field)} is not a known field selector: only "
                              '"metadata.name", "metadata.namespace"')
    if term.field not in _FIELD_LABELS[resource]:
        raise InvalidSelector(f"field label not supported: {term.field}")
    return term


def _go_bool(value: Any) -> str:
    return "true" if value else "false"


def _pod_fields(pod: Mapping[str, Any]) -> dict[str, str]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    pod_ips = status.get("podIPs") or []
    return {
        "spec.nodeName": spec.get("nodeName") or "",
        "spec.restartPolicy": spec.get("restartPolicy") or "",
        "spec.schedulerName": spec.get("schedulerName") or "",
        "spec.serviceAccountName": spec.get("serviceAccountName") or "",
        "spec.hostNetwork": _go_bool(spec.get("hostNetwork")),
        "status.phase": status.get("phase") or "",
        # The API server keeps podIPs[0] and podIP in step; an older object may have podIP only.
        "status.podIP": (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "",
        "status.nominatedNodeName": status.get("nominatedNodeName") or "",
    }


def _event_fields(event: Mapping[str, Any]) -> dict[str, str]:
    involved = event.get("involvedObject") or {}
    source = event.get("source") or {}
    fields = {f"involvedObject.{name}": str(involved.get(name) or "")
              for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion",
                           "fieldPath")}
    fields.update({
        "reason": event.get("reason") or "",
        "reportingComponent": event.get("reportingComponent") or "",
        "source": source.get("component") or event.get("reportingComponent") or "",
        "type": event.get("type") or "",
    })
    return fields


_FIELD_GETTERS = {
    "pods": _pod_fields,
    "events": _event_fields,
    "nodes": lambda node: {"spec.unschedulable": _go_bool((node.get("spec") or {})
                                                          .get("unschedulable"))},
    "namespaces": lambda ns: {"status.phase": (ns.get("status") or {}).get("phase") or ""},
    "replicationcontrollers": lambda rc: {
        "status.replicas": str(int((rc.get("status") or {}).get("replicas") or 0))},
    "services": lambda svc: {"spec.clusterIP": (svc.get("spec") or {}).get("clusterIP") or "",
                             "spec.type": (svc.get("spec") or {}).get("type") or ""},
    "secrets": lambda secret: {"type": secret.get("type") or ""},
}


def selectable_fields(resource: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The field values a field selector on `resource` sees for `obj` (absent fields read "")."""
    meta = obj.get("metadata") or {}
    fields = {"metadata.name": meta.get("name") or "",
              "metadata.namespace": meta.get("namespace") or ""}
    if getter := _FIELD_GETTERS.get(resource):
        fields.update(getter(obj))
    return fields
