"""`apply -f FILE|DIR|- [-R]`: client-side apply, as `kubectl apply` does it.

An object that does not exist is created with the last-applied annotation; one that exists gets
the three-way strategic merge patch of `bosun.api.applypatch` (nothing is sent when it is
empty). Prints `replicationcontroller/web created|configured|unchanged` per object and the
errors at the end, so the same files applied by kubectl or by Bosun leave the same objects.
"""

from __future__ import annotations

import argparse
import copy
import sys

from bosun.api import applypatch
from bosun.api.applypatch import ApplyPatchError
from bosun.api.client import STRATEGIC_PATCH, ClientError, resource_path
from bosun.ctl import manifests
from bosun.ctl.manifests import Manifest
from bosun.ctl.resources import object_name
from bosun.ctl.session import CtlError, Session

FIELD_MANAGER = "kubectl-client-side-apply"
PATCH_ATTEMPTS = 5
MISSING_ANNOTATION = (
    "resource {resource}/{name} is missing the {annotation} annotation which is required by "
    "kubectl apply. kubectl apply should only be used on resources created declaratively by "
    "either kubectl create --save-config or kubectl apply. The missing annotation will be "
    "patched automatically.")


def command(session: Session, args: argparse.Namespace) -> int:
    found, errors = manifests.read(args.filename, args.recursive, sys.stdin)
    failures: list[BaseException] = []
    if not found and not errors:
        failures.append(CtlError("no objects passed to apply"))
    for manifest in found:
        try:
            outcome = apply(session, manifest)
        except (ClientError, CtlError, ApplyPatchError) as error:
            failures.append(error)
            continue
        session.out.write(f"{object_name(manifest.resource, manifest.name)} {outcome}\n")
        session.out.flush()
    return session.fail([*failures, *errors])


def apply(session: Session, manifest: Manifest) -> str:
    """Create or patch one object; `created`, `configured` or `unchanged`.

    Raises ClientError (with the file named in its message), CtlError, ApplyPatchError.
    """
    namespace = manifests.namespace_for(manifest, session.namespace, session.namespace_given)
    obj = copy.deepcopy(manifest.obj)
    if namespace is not None:
        obj.setdefault("metadata", {})["namespace"] = namespace
    try:
        modified = applypatch.with_last_applied(obj)
    except ValueError as error:  # NaN or infinity, which JSON cannot carry
        raise CtlError(f'error when applying "{manifest.source}": {error}') from None
    collection = resource_path(manifest.resource.name, namespace)
    path = resource_path(manifest.resource.name, namespace, manifest.name)
    query = {"fieldManager": FIELD_MANAGER, "fieldValidation": "Strict"}
    try:
        current = session.client.get(path)
    except ClientError as error:
        if error.code != 404:
            raise error.with_source("retrieving current configuration of",
                                    manifest.source) from None
        try:
            session.client.create(collection, modified, query)
        except ClientError as create_error:
            raise create_error.with_source("creating", manifest.source) from None
        return "created"
    return _patch(session, manifest, path, modified, current, query)


def _patch(session: Session, manifest: Manifest, path: str, modified: dict, current: dict,
           query: dict) -> str:
    """Patch until it applies; a conflict (someone wrote in between) is retried afresh."""
    for attempt in range(PATCH_ATTEMPTS):
        original = applypatch.last_applied(current)
        if original is None and attempt == 0:
            session.warn(MISSING_ANNOTATION.format(resource=manifest.resource.name,
                                                   name=manifest.name,
                                                   annotation=applypatch.LAST_APPLIED))
        patch = applypatch.three_way_patch(original, modified, current, manifest.resource.kind)
        if not patch:
            return "unchanged"
        try:
            session.client.patch(path, patch, STRATEGIC_PATCH, query)
            return "configured"
        except ClientError as error:
            if error.code != 409 or attempt == PATCH_ATTEMPTS - 1:
                raise error.with_source("patching", manifest.source) from None
        current = session.client.get(path)
    raise AssertionError("unreachable")
