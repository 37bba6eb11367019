"""The API contract lives in the repository (docs/api.md) and stays in step with
the routes the app serves (its /api/v1/openapi.json) and with the brief's
shared/api.md, of which it is a superset."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s`?\[,)]*)")


def endpoints(text: str) -> set[tuple[str, str]]:
    """(method, path) pairs written in a document, path parameters as {}."""
    return {(method, re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/api/v1")).rstrip("/.") or "/")
            for method, path in ENDPOINT.findall(text)}


def test_every_api_route_is_in_the_contract(client):
    documented = endpoints((ROOT / "docs" / "api.md").read_text())
    served = {(method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
              for path, operations in client.get("/api/v1/openapi.json").get_json()["paths"].items()
              for method in operations}
    assert served - documented == set(), "routes missing from docs/api.md"


def test_the_briefs_contract_is_a_subset_of_the_repositorys():
    shared = ROOT.parent / "shared" / "api.md"
    ours = endpoints((ROOT / "docs" / "api.md").read_text())
    assert len(ours) > 40
    if shared.exists():  # the brief sits beside the checkout for developers and CI
        assert endpoints(shared.read_text()) - ours == set()


def test_readme_links_the_contract():
    assert "docs/api.md" in (ROOT / "README.md").read_text()
