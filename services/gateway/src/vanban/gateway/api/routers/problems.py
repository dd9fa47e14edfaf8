"""Pages describing the problem codes, where every problem's `type` points (public)."""

from __future__ import annotations

import re
from html import escape
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from vanban.gateway.api.openapi import ANYONE, answers
from vanban.gateway.api.problem_types import PROBLEM_TYPES, PROBLEMS_PATH, ProblemType
from vanban.platform.errors import NotFoundError

router = APIRouter(prefix=PROBLEMS_PATH, tags=["problems"])

# A page of text: nothing to run, nothing to fetch.
_HEADERS = {"Content-Security-Policy": "default-src 'none'"}


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n<body>\n{body}</body></html>\n",
        headers=_HEADERS,
    )


def _text(text: str) -> str:
    """Plain text, with `code` marked as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _row(problem: ProblemType) -> str:
    return (
        f'<tr><td><a href="{escape(problem.uri)}"><code>{escape(problem.code)}</code></a></td>'
        f"<td>{problem.status}</td><td>{escape(problem.title)}</td></tr>\n"
    )


@router.get(
    "",
    response_class=HTMLResponse,
    operation_id="listProblemTypes",
    responses=answers(*ANYONE),
)
async def list_problem_types() -> HTMLResponse:
    """Every problem code of the API, with its HTTP status."""
    rows = "".join(_row(p) for p in sorted(PROBLEM_TYPES.values(), key=lambda p: p.code))
    return _page(
        "Problems of the Vanban API",
        "<h1>Problems of the Vanban API</h1>\n"
        "<p>Every error is answered as <code>application/problem+json</code> (RFC 9457); its "
        "<code>code</code> is one of these.</p>\n"
        f"<table>\n<tr><th>code</th><th>status</th><th>title</th></tr>\n{rows}</table>\n",
    )


@router.get(
    "/{code}",
    response_class=HTMLResponse,
    operation_id="getProblemType",
    responses=answers(*ANYONE, "VALIDATION_FAILED", "PROBLEM_TYPE_NOT_FOUND"),
)
async def get_problem_type(
    code: Annotated[str, Path(max_length=64, pattern=r"^[A-Z][A-Z0-9_]*$")],
) -> HTMLResponse:
    """What a problem code means: its title, HTTP status and meaning."""
    problem = PROBLEM_TYPES.get(code)
    if problem is None:
        raise NotFoundError(
            f"no problem of the API has the code {code}", reason="PROBLEM_TYPE_NOT_FOUND"
        )
    return _page(
        f"{problem.code}: {problem.title}",
        f"<h1><code>{escape(problem.code)}</code>: {escape(problem.title)}</h1>\n"
        f"<p>HTTP status {problem.status}.</p>\n"
        f"<p>{_text(problem.meaning)}</p>\n"
        f'<p><a href="{PROBLEMS_PATH}">Every problem of the API</a></p>\n',
    )
