"""Label and field selectors: Kubernetes' grammar, messages, matching and canonical strings.

The expected error messages were checked against kubectl 1.32's own parser
(`kubectl set selector --local -f svc.yaml SELECTOR`), which prints apimachinery's words.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bosun.errors import PermanentError
from bosun.objects.selectors import (
    DOES_NOT_EXIST,
    DOUBLE_EQUALS,
    EQUALS,
    EXISTS,
    GREATER_THAN,
    IN,
    LESS_THAN,
    NOT_EQUALS,
    NOT_IN,
    FieldSelector,
    InvalidSelector,
    Requirement,
    Selector,
    escape_field_value,
    label_key_errors,
    label_value_errors,
    parse_field_selector,
    parse_label_selector,
    selectable_fields,
    selector_from_label_selector,
    selector_from_set,
    selector_to_string,
)

NAME_RULE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
             "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
             "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, '-', "
              "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', "
              " or 'my_value',  or '12345', regex used for validation is "
              "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
PREFIX_RULE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
               "'-' or '.', and must start and end with an alphanumeric character (e.g. "
               "'example.com', regex used for validation is "
               r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
OPERATORS = "in, notin, =, ==, !=, gt, lt"


# -- parsing the string form -----------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    ("", ""),
    ("   ", ""),
    ("a=b", "a=b"),
    ("a==b", "a==b"),
    ("a!=b", "a!=b"),
    ("a", "a"),
    ("!a", "!a"),
    (" a = b , c ", "a=b,c"),
    ("a=b,\tc\n!=\rd", "a=b,c!=d"),
    ("b=1,a=2", "a=2,b=1"),
    ("a in (c, b)", "a in (b,c)"),
    ("a in (b,b)", "a in (b)"),
    ("a notin (x)", "a notin (x)"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("a in (,)", "a in ()"),
    ("a in (a,)", "a in (,a)"),
    ("a=", "a="),
    ("a=,b", "a=,b"),
    ("a>1", "a>1"),
    ("a<10", "a<10"),
    ("in in (in,notin)", "in in (in,notin)"),
    ("notin=in", "notin=in"),
    ("example.com/app=web", "example.com/app=web"),
    ("a=b,a!=c", "a=b,a!=c"),
    ("z,a=b,!m", "a=b,!m,z"),
    ("a=b \0,c=d", "a=b"),
], ids=[
    "empty", "blank", "equals", "double-equals", "not-equals", "exists", "does-not-exist",
    "spaces-around", "tabs-and-newlines", "sorted-by-key", "in-sorts-values", "in-dedups-values",
    "notin", "k8s-doc-example", "in-comma-only", "in-trailing-comma", "empty-value",
    "empty-value-then-more", "greater-than", "less-than", "keywords-as-key-and-values",
    "notin-as-key", "prefixed-key", "same-key-twice-keeps-order", "negation-sorted-by-key",
    "nul-ends-input",
])
def test_parse_gives_kubernetes_canonical_string(text, canonical):
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize("text, message", [
    ("a_=b", f'unable to parse requirement: <nil>: Invalid value: "a_": name part {NAME_RULE}'),
    ("a=b_", f'unable to parse requirement: values[0][a]: Invalid value: "b_": {VALUE_RULE}'),
    ("a b", f"unable to parse requirement: found 'b', expected: {OPERATORS}"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a=b,", "found '', expected: identifier after ','"),
    ("a,,b", "found ',', expected: identifier after ','"),
    (",", "found ',', expected: !, identifier, or 'end of string'"),
    ("(a)", "found '(', expected: !, identifier, or 'end of string'"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
    ("a in", "unable to parse requirement: found '' expected: '('"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("!(", "unable to parse requirement: found '(', expected: identifier"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("a!b", f"unable to parse requirement: found '!', expected: {OPERATORS}"),
    ("a>b", 'unable to parse requirement: values[0]: Invalid value: "b": for \'Gt\', \'Lt\' '
            "operators, the value must be an integer"),
    ("a in (x_,y_)", f'unable to parse requirement: [values[0][a]: Invalid value: "x_": '
                     f'{VALUE_RULE}, values[1][a]: Invalid value: "y_": {VALUE_RULE}]'),
    ("a=" + "v" * 64, 'unable to parse requirement: values[0][a]: Invalid value: "'
                      + "v" * 64 + '": must be no more than 63 characters'),
    ("k" * 64, 'unable to parse requirement: <nil>: Invalid value: "' + "k" * 64
               + '": name part must be no more than 63 characters'),
    ("Foo/bar", f'unable to parse requirement: <nil>: Invalid value: "Foo/bar": prefix part '
                f"{PREFIX_RULE}"),
    ("/a", 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be '
           "non-empty"),
    ("a/", 'unable to parse requirement: <nil>: Invalid value: "a/": name part must be '
           f"non-empty; name part {NAME_RULE}"),
    ("a/b/c", 'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name '
              f"{NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. "
              "'example.com/MyName')"),
    ("a\0b", f"unable to parse requirement: found 'b', expected: {OPERATORS}"),
], ids=[
    "bad-key", "bad-value", "missing-operator", "junk-after-value", "trailing-comma",
    "double-comma", "lone-comma", "starts-with-paren", "in-without-paren", "in-unclosed",
    "in-missing-comma", "in-nothing-after-paren", "in-two-commas-then-close", "in-at-end",
    "bang-alone", "not-equals-first", "bang-then-paren", "bang-with-value", "paren-as-value",
    "bang-mid-key",
    "gt-not-integer", "two-bad-values-aggregated", "value-too-long", "key-too-long",
    "uppercase-prefix", "empty-prefix", "empty-name", "two-slashes", "nul-inside-identifier",
])
def test_invalid_selectors_say_what_kubernetes_says(text, message):
    with pytest.raises(InvalidSelector) as caught:
        parse_label_selector(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, PermanentError)


# -- matching --------------------------------------------------------------------------------------

WEB = {"app": "web", "tier": "front", "replicas": "3"}


@pytest.mark.parametrize("text, labels, expected", [
    ("", {}, True),
    ("app=web", WEB, True),
    ("app==web", WEB, True),
    ("app=db", WEB, False),
    ("app=web", {}, False),
    ("app!=db", WEB, True),
    ("app!=web", WEB, False),
    ("app!=web", {}, True),
    ("app in (db,web)", WEB, True),
    ("app in (db)", WEB, False),
    ("app in (db)", {}, False),
    ("app notin (web)", WEB, False),
    ("app notin (db)", WEB, True),
    ("app notin (web)", {}, True),
    ("app", WEB, True),
    ("app", {}, False),
    ("!app", WEB, False),
    ("!app", {}, True),
    ("app=", {"app": ""}, True),
    ("app=", {}, False),
    ("replicas>2", WEB, True),
    ("replicas>3", WEB, False),
    ("replicas<4", WEB, True),
    ("app>1", WEB, False),
    ("missing>1", WEB, False),
    ("app=web,tier=front", WEB, True),
    ("app=web,tier=back", WEB, False),
    ("app=web,!tier", WEB, False),
], ids=lambda v: None if isinstance(v, (dict, bool)) else v or "everything")
def test_matches(text, labels, expected):
    assert parse_label_selector(text).matches(labels) is expected


def test_none_labels_match_as_no_labels():
    assert parse_label_selector("!app").matches(None)
    assert not parse_label_selector("app").matches(None)


# -- structured selectors --------------------------------------------------------------------------

def test_rc_map_selector_prints_sorted_for_scale():
    selector = selector_from_set({"tier": "front", "app": "web"})
    assert selector_to_string(selector) == "app=web,tier=front"
    assert selector_to_string({"tier": "front", "app": "web"}) == "app=web,tier=front"
    assert selector.matches({"app": "web", "tier": "front", "extra": "x"})
    assert not selector.matches({"app": "web"})


@pytest.mark.parametrize("empty", [None, {}], ids=["none", "empty-map"])
def test_empty_map_selects_everything(empty):
    assert selector_from_set(empty).empty
    assert selector_from_set(empty).matches({"any": "thing"})
    assert selector_to_string(empty) == ""


def test_label_selector_with_labels_and_expressions():
    selector = selector_from_label_selector({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "env", "operator": "NotIn", "values": ["dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "team", "operator": "Exists"},
        ]})
    assert str(selector) == "app=web,!canary,env notin (dev),team,tier in (edge,front)"
    assert selector.matches({"app": "web", "tier": "edge", "team": "a"})
    assert not selector.matches({"app": "web", "tier": "edge", "team": "a", "canary": "1"})
    assert not selector.matches({"app": "web", "tier": "edge", "team": "a", "env": "dev"})


def test_missing_label_selector_selects_nothing_and_empty_one_everything():
    assert not selector_from_label_selector(None).matches({})
    assert selector_from_label_selector({}).matches({"a": "b"})
    assert selector_from_label_selector({"matchLabels": {}, "matchExpressions": []}).empty


@pytest.mark.parametrize("spec, message", [
    ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
     '"Gt" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
     "empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]},
     'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does '
     "not exist"),
    ({"matchLabels": {"a_": "b"}}, f'key: Invalid value: "a_": name part {NAME_RULE}'),
    ({"matchLabels": {"a": "b_"}}, f'values[0][a]: Invalid value: "b_": {VALUE_RULE}'),
], ids=["unknown-operator", "in-without-values", "exists-with-values", "bad-key", "bad-value"])
def test_invalid_label_selector_messages(spec, message):
    with pytest.raises(InvalidSelector) as caught:
        selector_from_label_selector(spec)
    assert str(caught.value) == message


@pytest.mark.parametrize("key, errors", [
    ("app", []),
    ("example.com/app", []),
    ("a" * 63, []),
    ("-app", [f"name part {NAME_RULE}"]),
    ("", ["name part must be non-empty", f"name part {NAME_RULE}"]),
], ids=["plain", "prefixed", "longest", "leading-dash", "empty"])
def test_label_key_errors(key, errors):
    assert label_key_errors(key) == errors


def test_label_value_errors():
    assert label_value_errors("") == []
    assert label_value_errors("My_value-1.2") == []
    assert label_value_errors("x" * 64) == ["must be no more than 63 characters"]


# -- properties ------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "app", "in", "notin", "example.com/tier", "k8s.io/x-y_z"])
VALUES = st.sampled_from(["", "x", "y", "web", "in", "notin", "1", "20", "A.b-c_d"])
NUMBERS = st.integers(min_value=0, max_value=10**12).map(str)


@st.composite
def requirements(draw):
    key = draw(KEYS)
    operator = draw(st.sampled_from([EQUALS, DOUBLE_EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS,
                                     DOES_NOT_EXIST, GREATER_THAN, LESS_THAN]))
    if operator in (EXISTS, DOES_NOT_EXIST):
        values = ()
    elif operator in (GREATER_THAN, LESS_THAN):
        values = (draw(NUMBERS),)
    elif operator in (IN, NOT_IN):
        values = tuple(sorted(draw(st.sets(VALUES, min_size=1, max_size=4))))
    else:
        values = (draw(VALUES),)
    return Requirement(key, operator, values)


SELECTORS = st.lists(requirements(), max_size=5).map(Selector.of)
LABELS = st.dictionaries(KEYS, st.one_of(VALUES, NUMBERS), max_size=5)


@given(SELECTORS)
def test_string_form_round_trips(selector):
    assert parse_label_selector(selector_to_string(selector)) == selector


def _reference_match(requirement, labels):
    """The requirement's meaning, written out the plain way."""
    key, op, values = requirement.key, requirement.operator, requirement.values
    present = key in labels
    if op == EXISTS:
        return present
    if op == DOES_NOT_EXIST:
        return not present
    if op in (EQUALS, DOUBLE_EQUALS, IN):
        return present and labels[key] in values
    if op in (NOT_EQUALS, NOT_IN):
        return not present or labels[key] not in values
    if not present or not labels[key].isdigit():
        return False
    if op == GREATER_THAN:
        return int(labels[key]) > int(values[0])
    return int(labels[key]) < int(values[0])


@given(SELECTORS, LABELS)
def test_matching_agrees_with_reference(selector, labels):
    parsed = parse_label_selector(str(selector))
    expected = all(_reference_match(r, labels) for r in selector.requirements)
    assert parsed.matches(labels) is expected


# -- field selectors -------------------------------------------------------------------------------

POD = {
    "metadata": {"name": "web-1", "namespace": "shop"},
    "spec": {"nodeName": "minion-1", "restartPolicy": "Always", "schedulerName": "default",
             "serviceAccountName": "default"},
    "status": {"phase": "Running", "podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]},
}
EVENT = {
    "metadata": {"name": "web-1.17a", "namespace": "shop"},
    "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web-1", "uid": "u-1",
                       "apiVersion": "v1", "fieldPath": "spec.containers{web}"},
    "reason": "Pulled", "type": "Normal", "source": {"component": "kubelet"},
}
NODE = {"metadata": {"name": "minion-1"}, "spec": {"unschedulable": True}}
RC = {"metadata": {"name": "web", "namespace": "shop"}, "status": {"replicas": 3}}
NAMESPACE = {"metadata": {"name": "shop"}, "status": {"phase": "Active"}}
SERVICE = {"metadata": {"name": "web", "namespace": "shop"},
           "spec": {"clusterIP": "None", "type": "ClusterIP"}}


@pytest.mark.parametrize("resource, obj, text, expected", [
    ("pods", POD, "", True),
    ("pods", POD, "metadata.name=web-1", True),
    ("pods", POD, "metadata.name==web-1,metadata.namespace=shop", True),
    ("pods", POD, "metadata.namespace=other", False),
    ("pods", POD, "spec.nodeName=minion-1,status.phase!=Succeeded,status.phase!=Failed", True),
    ("pods", POD, "spec.nodeName=minion-2", False),
    ("pods", POD, "spec.host=minion-1", True),
    ("pods", POD, "spec.hostNetwork=false", True),
    ("pods", POD, "status.podIP=10.244.1.5", True),
    ("pods", POD, "status.nominatedNodeName=", True),
    ("pods", POD, "spec.restartPolicy=Always,spec.schedulerName=default", True),
    ("events", EVENT, "involvedObject.uid=u-1,involvedObject.name=web-1,"
                      "involvedObject.namespace=shop", True),
    ("events", EVENT, "involvedObject.kind=Pod,reason=Pulled,type=Normal,source=kubelet", True),
    ("events", EVENT, "involvedObject.fieldPath=spec.containers{web}", True),
    ("events", EVENT, "involvedObject.uid=u-2", False),
    ("nodes", NODE, "spec.unschedulable=true", True),
    ("nodes", NODE, "spec.unschedulable!=true", False),
    ("replicationcontrollers", RC, "status.replicas=3", True),
    ("namespaces", NAMESPACE, "status.phase=Active", True),
    ("services", SERVICE, "spec.clusterIP!=None", False),
    ("endpoints", {"metadata": {"name": "web"}}, "metadata.name=web", True),
], ids=[
    "empty", "name", "name-double-equals-and-namespace", "other-namespace",
    "describe-node-query", "other-node", "legacy-spec-host", "host-network", "pod-ip",
    "empty-nominated-node", "restart-policy-and-scheduler", "describe-events-query",
    "event-kind-reason-type-source", "event-field-path", "other-uid", "cordoned-node",
    "cordoned-node-negated", "rc-replicas", "namespace-phase", "headless-service",
    "endpoints-by-name",
])
def test_field_selector_matches(resource, obj, text, expected):
    selector = parse_field_selector(resource, text)
    assert selector.matches(resource, obj) is expected
    assert selector.matches(obj) is expected  # bound to the resource it was parsed for


@pytest.mark.parametrize("resource, text, message", [
    ("endpoints", "spec.foo=x",
     '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'),
    ("pods", "spec.foo=x", "field label not supported: spec.foo"),
    ("nodes", "metadata.namespace=x", "field label not supported: metadata.namespace"),
    ("events", "involvedObject.color=x", "field label not supported: involvedObject.color"),
    ("pods", "metadata.name", "invalid selector: 'metadata.name'; can't understand "
                              "'metadata.name'"),
    ("pods", "b=1,metadata.name", "invalid selector: 'b=1,metadata.name'; can't understand "
                                  "'metadata.name'"),
    ("pods", "metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    ("pods", r"metadata.name=a\b", r"invalid field selector: invalid escape sequence: \b"),
    ("pods", "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
    ("pods", "spec.zzz=1,spec.aaa=1", "field label not supported: spec.aaa"),
], ids=["unknown-on-endpoints", "unknown-on-pods", "namespace-on-nodes", "unknown-on-events",
        "no-operator", "no-operator-second-term", "unescaped-equals", "bad-escape",
        "trailing-backslash", "first-in-sorted-order-reported"])
def test_invalid_field_selectors(resource, text, message):
    with pytest.raises(InvalidSelector) as caught:
        parse_field_selector(resource, text)
    assert str(caught.value) == message


def test_field_selector_escapes_round_trip():
    value = r"a,b=c\d"
    assert escape_field_value(value) == r"a\,b\=c\\d"
    selector = parse_field_selector("pods", "metadata.name=" + escape_field_value(value))
    assert selector.requirements[0].value == value
    assert str(selector) == r"metadata.name=a\,b\=c\\d"
    assert selector.matches("pods", {"metadata": {"name": value}})


def test_field_selector_without_resource_checks_no_fields():
    selector = parse_field_selector(None, "anything.at.all!=x")
    assert str(selector) == "anything.at.all!=x"
    assert selector.matches("pods", POD)


def test_spec_host_is_rewritten_to_node_name():
    assert str(parse_field_selector("pods", "spec.host=m1")) == "spec.nodeName=m1"


def test_empty_field_selector_matches_anything():
    assert FieldSelector().matches("pods", {})
    assert parse_field_selector("pods", None).empty


def test_selectable_fields_of_a_pod_without_status():
    fields = selectable_fields("pods", {"metadata": {"name": "p"}, "spec": {}})
    assert fields["status.phase"] == "" and fields["spec.hostNetwork"] == "false"
    assert fields["metadata.namespace"] == ""
