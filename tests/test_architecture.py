"""The house plan holds: one package per stage, imports only run down the layers, lint clean.

The layers and forbidden imports are import-linter contracts in pyproject.toml; this runs
them (and ruff) with the suite, so a back-arrow fails CI instead of creeping in.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import listening

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_imports_only_run_down_the_layers():
    result = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_ruff_finds_nothing():
    result = subprocess.run([str(BIN / "ruff"), "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_python_contract_is_exported():
    assert sorted(listening.__all__) == ["BrandMatcher", "Config", "ListeningError", "Settings", "Store",
                                         "classify", "load_config", "score"]
    assert listening.score("@united lost my bag again, worst airline").label == "negative"
    assert "Lost item" in listening.classify("they lost my bag at baggage claim")
    assert listening.BrandMatcher(listening.load_config().brands).match("flew @JetBlue today") == ["JetBlue"]
    with pytest.raises(AttributeError):
        listening.nothing_here  # noqa: B018


def test_every_error_we_raise_is_a_listening_error():
    from listening import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ListeningError), name
    assert issubclass(errors.ConfigError, ValueError) and issubclass(errors.StoreUnavailable, RuntimeError)


@pytest.mark.parametrize(("old", "name"), [("listening.sentiment", "score"), ("listening.issues", "classify")])
def test_old_import_paths_work_for_one_release_with_a_warning(old, name):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = __import__(old, fromlist=[name])
    assert callable(getattr(module, name))
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    from listening.matching import BrandMatcher  # the third documented path is a package face now

    assert BrandMatcher is listening.BrandMatcher


def test_no_import_circles_inside_a_stage():
    """The layers rule out circles between stages; this rules them out inside one too."""
    import grimp

    graph = grimp.build_graph("listening", "crawlers", exclude_type_checking_imports=True)
    circles = sorted({tuple(sorted((a, b))) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
                      if b in graph.modules and graph.chain_exists(importer=b, imported=a)})
    assert circles == []


def test_the_package_faces_type_check():
    """mypy on the faces and the base modules (the files listed under [tool.mypy])."""
    result = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
