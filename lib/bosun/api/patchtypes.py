"""Which patch a PATCH request's Content-Type asks for, applied to a stored object."""

from __future__ import annotations

from bosun.api import patch as patches
from bosun.objects.status import BadRequest, UnsupportedMediaType

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC)


def apply(media_type: str, kind: str, original: dict, patch: object) -> dict:
    """original with patch applied. Raises BadRequest, UnsupportedMediaType."""
    try:
        if media_type == STRATEGIC:
            result = patches.strategic_merge(original, _object(patch), kind)
        elif media_type == MERGE:
            result = patches.json_merge(original, _object(patch))
        elif media_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise BadRequest("a JSON patch must be a list of operations")
            result = patches.json_patch(original, patch)
        else:
            raise UnsupportedMediaType(PATCH_TYPES)
    except patches.BadPatch as error:
        raise BadRequest(str(error)) from None
    if not isinstance(result, dict):
        raise BadRequest("the patch did not produce an object")
    return result


def _object(patch: object) -> dict:
    if not isinstance(patch, dict):
        raise BadRequest("a merge patch must be a JSON object")
    return patch
