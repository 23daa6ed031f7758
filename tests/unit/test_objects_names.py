"""Name and format checks word their reasons exactly as the Kubernetes API server does."""

from __future__ import annotations

import pytest

from bosun.objects import fielderrors as fe
from bosun.objects import names

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
               "with an alphabetic character, and end with an alphanumeric character (e.g. "
               "'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')")
QUALIFIED_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and "
                      "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                      "'my.name',  or '123-abc', regex used for validation is "
                      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                   "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


@pytest.mark.parametrize(("check", "value", "reasons"), [
    (names.dns1123_label, "web-1", []),
    (names.dns1123_label, "Web", [LABEL_MSG]),
    (names.dns1123_label, "a.b", ["must not contain dots"]),
    (names.dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
    (names.dns1123_label, "-a", [LABEL_MSG]),
    (names.dns1123_subdomain, "web.example.com", []),
    (names.dns1123_subdomain, "Web_1", [SUBDOMAIN_MSG]),
    (names.dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"]),
    (names.dns1035_label, "web", []),
    (names.dns1035_label, "1web", [DNS1035_MSG]),
    (names.qualified_name, "app.kubernetes.io/name", []),
    (names.qualified_name, "bad key", [QUALIFIED_NAME_MSG]),
    (names.qualified_name, "/x", ["prefix part must be non-empty"]),
    (names.qualified_name, "x/", ["name part must be non-empty", QUALIFIED_NAME_MSG]),
    (names.label_value, "", []),
    (names.label_value, "my_value", []),
    (names.label_value, "-x", [LABEL_VALUE_MSG]),
    (names.port_name, "http", []),
    (names.port_name, "http_web", ["must contain only alpha-numeric characters (a-z, 0-9), and "
                                   "hyphens (-)"]),
    (names.port_name, "8080", ["must contain at least one letter (a-z)"]),
    (names.port_name, "a--b", ["must not contain consecutive hyphens"]),
    (names.port_name, "-ab", ["must not begin or end with a hyphen"]),
    (names.port_name, "abcdefghijklmnop", ["must be no more than 15 characters"]),
    (names.port_number, 0, ["must be between 1 and 65535, inclusive"]),
    (names.port_number, 65535, []),
    (names.ip_address, "10.0.0.1", []),
    (names.ip_address, "10.0.0", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
    (names.env_var_name, "MY_VAR.1", []),
    (names.env_var_name, "1VAR", [
        "a valid environment variable name must consist of alphabetic characters, digits, '_', "
        "'-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  "
        "or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"]),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_reasons_are_kubernetes_words(check, value, reasons):
    assert check(value) == reasons


def test_qualified_name_with_two_slashes():
    [reason] = names.qualified_name("a/b/c")
    assert reason.startswith("a qualified name must consist of alphanumeric characters")
    assert reason.endswith("with an optional DNS subdomain prefix and '/' (e.g. "
                           "'example.com/MyName')")


@pytest.mark.parametrize(("value", "rendered"), [
    ("x", '"x"'), ('a"b\n', r'"a\"b\n"'), (80, "80"), (True, "true"), (None, "null"),
    (1.5, "1.5"), (3.0, "3"), ({"b": "2", "a": "1"}, 'map[string]string{"a":"1", "b":"2"}'),
    (["x", "y"], '[]string{"x", "y"}'), ("\x01é", r'"\x01é"'),
], ids=lambda v: repr(v))
def test_values_render_as_go_prints_them(value, rendered):
    assert fe.render(value) == rendered


def test_field_error_bodies():
    assert fe.required("spec.x").body() == "Required value"
    assert fe.required("metadata.name", "name or generateName is required").body() == (
        "Required value: name or generateName is required")
    assert str(fe.not_supported("spec.restartPolicy", "Sometimes",
                                ["Always", "OnFailure", "Never"])) == (
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"')
    assert fe.duplicate("spec.containers[1].name", "web").body() == 'Duplicate value: "web"'
    assert fe.forbidden("spec", "no").body() == "Forbidden: no"
    assert fe.too_long("metadata.annotations", 262144).body() == (
        "Too long: may not be more than 262144 bytes")
    assert fe.not_found("spec.containers[0].volumeMounts[0].name", "v").body() == (
        'Not found: "v"')
    assert fe.go_string_map(None) == "map[string]string(nil)"
