"""A problem's `type` is a page of the gateway describing its code — never a URI on a domain
the project does not own — and every code the gateway itself can answer has one."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import vanban.gateway
import vanban.platform
from services.gateway.tests.unit.support import build_gateway
from vanban.gateway.api.problem_types import PROBLEM_TYPES
from vanban.gateway.api.schemas.problems import Problem
from vanban.platform.errors import ErrorCode

GATEWAY = Path(vanban.gateway.__file__).parent
PLATFORM = Path(vanban.platform.__file__).parent
# What the gateway raises from the platform: caller checks, errors, paging.
PLATFORM_MODULES = ("caller.py", "errors.py", "paging.py")
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
# Calls that take a problem's code as a positional argument.
CODE_TAKING_CALLS = {"HttpProblem", "_refused"}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def codes_raised_in(path: Path) -> Iterator[str]:
    """Problem codes written in a module: `reason=`/`code=` arguments, `reason`/`code`
    assignments, the code argument of `HttpProblem(...)`, and status-to-code tables."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        found: list[str | None] = []
        if isinstance(node, ast.keyword) and node.arg in ("reason", "code"):
            found.append(_text(node.value))
        elif isinstance(node, ast.Assign):
            if any(_name(t) in ("reason", "code") for t in node.targets):
                found.append(_text(node.value))
        elif isinstance(node, ast.Call) and _name(node.func) in CODE_TAKING_CALLS:
            found.extend(_text(arg) for arg in node.args)
        elif (
            isinstance(node, ast.Dict)
            and node.keys
            and all(isinstance(k, ast.Constant) and isinstance(k.value, int) for k in node.keys)
        ):
            found.extend(_text(value) for value in node.values)
        yield from (code for code in found if code)


def gateway_codes() -> dict[str, str]:
    modules = [p for p in GATEWAY.rglob("*.py") if "migrations" not in p.parts]
    modules += [PLATFORM / name for name in PLATFORM_MODULES]
    return {code: str(path) for path in modules for code in codes_raised_in(path)}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(build_gateway(Path(tmp_path_factory.mktemp("keys")))) as client:
        yield client


def test_every_code_the_gateway_raises_has_a_page() -> None:
    raised = gateway_codes()
    # The scan finds what it should (the admission's, sign-in's, the uploads' and the
    # platform's codes), so that an empty scan cannot pass.
    assert {"HOST_NOT_ALLOWED", "ACCOUNT_LOCKED", "NOT_A_PDF", "ROLE_REQUIRED"} <= raised.keys()
    assert {"ROUTE_NOT_FOUND", "BODY_TOO_LARGE", "OIDC_NOT_ACCESS_TOKEN"} <= raised.keys()

    missing = {code: where for code, where in raised.items() if code not in PROBLEM_TYPES}
    assert not missing, f"problem codes without a page: {missing}"


def test_a_service_refusal_without_a_reason_has_a_page_too() -> None:
    # The gateway names such a refusal by its google.rpc code.
    assert {code.name for code in ErrorCode} <= PROBLEM_TYPES.keys()


def test_every_page_describes_its_code(client: TestClient) -> None:
    for code, problem in PROBLEM_TYPES.items():
        page = client.get(f"/problems/{code}")

        assert page.status_code == 200, code
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == "default-src 'none'"
        assert code in page.text and f"HTTP status {problem.status}." in page.text
        assert problem.title.replace("'", "&#x27;") in page.text


def test_the_index_lists_every_code(client: TestClient) -> None:
    page = client.get("/problems")

    assert page.status_code == 200
    for code in PROBLEM_TYPES:
        assert f'href="/problems/{code}"' in page.text


def test_a_refusal_points_to_the_page_of_its_code(client: TestClient) -> None:
    refusal = client.get("/v1/units")  # no caller: refused before any service is asked

    assert refusal.status_code == 401
    body = refusal.json()
    Problem.model_validate(body)
    assert body["code"] == "TOKEN_MISSING"
    assert body["type"] == "/problems/TOKEN_MISSING"
    page = client.get(body["type"])
    assert page.status_code == 200 and "TOKEN_MISSING" in page.text


def test_an_unknown_code_has_no_page(client: TestClient) -> None:
    missing = client.get("/problems/NO_SUCH_CODE")

    assert missing.status_code == 404
    assert missing.json()["code"] == "PROBLEM_TYPE_NOT_FOUND"
    assert client.get("/problems/not-a-code").status_code == 422
