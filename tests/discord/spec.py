"""Checks against Discord's own OpenAPI description (``../shared/specs``), when present.

Bodies are validated as JSON Schema 2020-12 with refs into ``#/components/schemas``; on top
of that, *strict* mode rejects any field the spec does not define for that object, so the
bot never sends something Discord does not document.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from tests.conftest import SPECS

SPEC = SPECS / "discord-openapi.json"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"
COMMANDS = "/applications/{application_id}/commands"

# Fields discord.py always sends that this spec leaves out, each allowed explicitly and only
# with the value discord.py sends: embeds carry ``flags: 0`` (Discord documents embed flags on
# received messages) and commands ``nsfw: false`` (documented for commands in Discord's
# reference). Nothing else outside the spec passes.
LIBRARY_FIELDS = {
    "RichEmbed": {"flags": {"const": 0}},
    "ApplicationCommandUpdateRequest": {"nsfw": {"const": False}},
    "ApplicationCommandCreateRequest": {"nsfw": {"const": False}},
}


def require_spec() -> dict[str, Any]:
    """The spec, or skip: it lives beside the repository, not in it."""
    if not SPEC.is_file():
        pytest.skip(f"Discord API spec not found at {SPEC}; conformance to it is not checked")
    return _load()


@functools.cache
def _load() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


@functools.cache
def _strict_components() -> dict[str, Any]:
    components = copy.deepcopy(_load()["components"])
    for name, extra in LIBRARY_FIELDS.items():
        components["schemas"][name]["properties"].update(extra)

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["unevaluatedProperties"] = False
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(components)
    return components


def validator(schema: dict[str, Any], *, strict: bool = True) -> Draft202012Validator:
    """A validator for ``schema`` (a fragment of the spec) with the spec's components."""
    spec = require_spec()
    components = _strict_components() if strict else spec["components"]
    root = {**schema, "components": components}
    Draft202012Validator.check_schema(root)
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _deepest(error: ValidationError) -> ValidationError:
    """Inside anyOf/oneOf, the branch that came closest, down to the failing keyword."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def request_schema(path: str, method: str) -> dict[str, Any]:
    """The JSON request body schema of an endpoint."""
    body = require_spec()["paths"][path][method]["requestBody"]
    return dict(body["content"]["application/json"]["schema"])


def assert_valid(instance: Any, schema: dict[str, Any], *, strict: bool = True) -> None:
    """Fail with every schema error, each with where it is."""
    errors = [_deepest(e) for e in validator(schema, strict=strict).iter_errors(instance)]
    details = sorted(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)
    assert not details, "\n".join(details[:20])


def assert_callback(body: Any) -> None:
    """An interaction callback body as Discord's spec defines it (a message or a defer)."""
    # The message schema first, for precise errors; then the endpoint's own union.
    assert_valid(body, {"$ref": "#/components/schemas/CreateMessageInteractionCallbackRequest"})
    assert_valid(body, request_schema(CALLBACK, "post"))


def assert_message(body: Any) -> None:
    """A channel message body (``POST /channels/{id}/messages``)."""
    assert_valid(body, {"$ref": "#/components/schemas/MessageCreateRequest"})


def assert_commands(body: Any) -> None:
    """A bulk command registration (``PUT /applications/{id}/commands``)."""
    assert_valid(body, request_schema(COMMANDS, "put"))


def assert_followup(body: Any) -> None:
    """A follow-up after a deferred answer (``POST /webhooks/{app}/{token}``)."""
    assert_valid(body, {"$ref": "#/components/schemas/IncomingWebhookRequestPartial"})
    assert_valid(body, request_schema("/webhooks/{webhook_id}/{webhook_token}", "post"))
