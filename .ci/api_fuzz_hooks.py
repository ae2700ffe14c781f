"""Schemathesis hooks for `.ci/api-fuzz`: teaches it the one request body it cannot write by
itself, the notification policy, a TOML document (`application/toml`) sent as its text."""

import json

import schemathesis


@schemathesis.serializer("application/toml")
def toml_as_text(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")
