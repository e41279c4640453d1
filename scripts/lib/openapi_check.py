#!/usr/bin/env python3
"""Validates recorded profile-api exchanges against its OpenAPI document with openapi-core.

Usage: openapi_check.py --exchanges FILE [--yaml Shared/BaselineAPI/Web/openapi.yaml]

FILE is a JSON list of {method, template, path, status, content_type, body} (written by
Tests/BaselineIntegrationTests/APIConformanceTests.swift). The document checked is the one the
server served (the recorded GET /api/v1/openapi.json); with --yaml it must equal the YAML source
(else scripts/embed-assets was not run). Fails (exit 1) when:
  - the document is not a valid OpenAPI 3 document;
  - a call's (template, method) is not in the document, or its status is not documented for it;
  - a response body does not match the documented schema (openapi-core: required fields,
    undocumented fields where additionalProperties is false, types, enums, RFC 3339 dates);
  - an operation of the document was never called with a 2xx and with a 4xx status.
"""
import argparse
import json
import re
import sys

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate as validate_spec

METHODS = ("get", "put", "post", "delete", "patch")


def describe(error):
    """The innermost schema errors of an openapi-core exception, readable."""
    parts = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        for schema_error in getattr(cause, "schema_errors", []) or []:
            where = "/".join(str(p) for p in schema_error.absolute_path) or "(body)"
            parts.append(f"  at {where}: {schema_error.message}")
        if not getattr(cause, "schema_errors", None):
            parts.append(f"  {type(cause).__name__}: {cause}")
        cause = cause.__cause__
    return "\n".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", required=True)
    parser.add_argument("--yaml", help="the document's YAML source, which the served JSON must equal")
    args = parser.parse_args()

    exchanges = json.load(open(args.exchanges, encoding="utf-8"))
    errors = []
    served = [e for e in exchanges if e["template"] == "/api/v1/openapi.json" and e["method"] == "get" and e["status"] == 200]
    if not served:
        print("openapi_check: no successful GET /api/v1/openapi.json among the exchanges", file=sys.stderr)
        return 1
    spec = json.loads(served[0]["body"])
    if args.yaml:
        source = yaml.safe_load(open(args.yaml, encoding="utf-8"))
        if source != spec:
            errors.append(f"the served document differs from {args.yaml}: run scripts/embed-assets and rebuild")
    try:
        validate_spec(spec)
    except Exception as e:  # the validator's own error types vary by version
        print(f"openapi_check: the document is not valid OpenAPI: {e}", file=sys.stderr)
        return 1
    openapi = OpenAPI.from_dict(spec)

    seen = {}
    for n, e in enumerate(exchanges):
        method, template, status = e["method"], e["template"], e["status"]
        label = f"#{n} {method.upper()} {e['path']} -> {status}"
        operation = spec["paths"].get(template, {}).get(method)
        if operation is None:
            errors.append(f"{label}: {method.upper()} {template} is not in the document")
            continue
        seen.setdefault((template, method), set()).add(status)
        if str(status) not in operation.get("responses", {}):
            errors.append(f"{label}: status {status} is not documented for {method.upper()} {template}")
            continue
        # The operation is found by its template (the path as sent may be spelled otherwise, e.g.
        # the double slashes of the auth tests); parameters are not what is checked here.
        concrete = re.sub(r"\{[^}]+\}", "x", template)
        content_type = (e.get("content_type") or "").split(";")[0].strip() or "application/octet-stream"
        request = MockRequest("http://localhost", method, concrete)
        response = MockResponse(e["body"].encode("utf-8"), status_code=status, content_type=content_type)
        try:
            openapi.validate_response(request, response)
        except Exception as error:
            errors.append(f"{label}:\n{describe(error)}\n  body: {e['body'][:400]}")

    for template, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            statuses = seen.get((template, method), set())
            if not any(200 <= s < 300 for s in statuses):
                errors.append(f"{method.upper()} {template} was never called successfully")
            if template != "/api/v1/openapi.json" and not any(400 <= s < 500 for s in statuses):
                errors.append(f"{method.upper()} {template} was never called with bad input (no 4xx)")

    operations = sum(1 for item in spec["paths"].values() for m in METHODS if m in item)
    if errors:
        print(f"openapi_check: {len(errors)} problem(s) in {len(exchanges)} exchanges over {operations} operations:")
        for error in errors:
            print(" - " + error)
        return 1
    print(f"openapi_check: {len(exchanges)} exchanges over {operations} operations conform")
    return 0


if __name__ == "__main__":
    sys.exit(main())
