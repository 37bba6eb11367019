"""Whoosh's private parts are used in one module, which loads only under the
Whoosh release it was written for."""

from __future__ import annotations

import ast
import importlib.util
import pathlib

import pytest
import whoosh

from search import whoosh_internals

SEARCH = pathlib.Path(whoosh_internals.__file__).parent


def test_refuses_another_whoosh_release():
    whoosh_internals.require_version(whoosh.__version__)
    with pytest.raises(ImportError, match=r"written for Whoosh 2\.7\.5 but Whoosh 2\.7\.4 is installed"):
        whoosh_internals.require_version((2, 7, 4))


def test_does_not_load_under_another_release(monkeypatch):
    monkeypatch.setattr(whoosh, "__version__", (2, 8, 0))
    spec = importlib.util.spec_from_file_location("whoosh_internals_elsewhere", SEARCH / "whoosh_internals.py")
    with pytest.raises(ImportError, match="pin whoosh-reloaded==2.7.5"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_no_other_module_of_search_touches_private_names():
    """Outside whoosh_internals.py, a name with a leading underscore is only
    ever our own (self._x, cls._x, a module's _helper), never imported."""
    offences = []
    for path in sorted(SEARCH.glob("*.py")):
        if path.name == "whoosh_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    offences.append(f"{path.name}:{node.lineno} .{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("whoosh"):
                offences += [f"{path.name}:{node.lineno} {alias.name}" for alias in node.names
                             if alias.name.startswith("_")]
    assert offences == []
