"""The network registry: four networks, no import circle, `collect --platform`, and room for a fifth."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, write_config
from fake_bluesky import fake_bluesky  # noqa: F401 - fixture
from fake_mastodon import fake_mastodon  # noqa: F401 - fixture

import collectors
import settings as settings_mod
from app import cli
from collectors import registry
from collectors.run import collect

COLLECTORS = ROOT / "collectors"
NETWORK_MODULES = {n.module.split(".")[1] for n in registry.NETWORKS}


def imports_of(path: Path) -> set[str]:
    """The collectors.* modules a file imports (at any depth, lazily or not)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "collectors":
                found |= {f"collectors.{a.name}" for a in node.names}
            elif node.module.startswith("collectors."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("collectors.")}
    return {name for name in found if (COLLECTORS / f"{name.split('.')[1]}.py").exists()}


def import_graph() -> dict[str, set[str]]:
    """Each collectors module and the collectors modules it imports."""
    return {f"collectors.{p.stem}": imports_of(p) for p in COLLECTORS.glob("*.py") if p.stem != "__init__"}


def test_base_imports_no_network_module():
    imported = {name.split(".")[1] for name in import_graph()["collectors.base"]}
    assert imported == set(), f"collectors/base.py imports {sorted(imported)}"
    assert NETWORK_MODULES == {"x", "reddit", "bluesky", "mastodon"}


def test_no_collector_module_imports_another_in_a_loop():
    graph = import_graph()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    loops = [name for name in graph if reaches(name, name, {name})]
    assert loops == [], f"import circles through {loops}"


def test_network_modules_never_import_the_registry():
    for name in NETWORK_MODULES:
        assert "collectors.registry" not in import_graph()[f"collectors.{name}"]


def test_every_network_has_its_settings_and_its_module_hooks():
    config = settings_mod.load(ROOT / "config.toml")
    for net in registry.NETWORKS:
        assert hasattr(config.sources, net.name) and hasattr(config.brands[0], net.name)
        module = registry.module(net.name)
        assert callable(module.build) and callable(module.build_replier), net.name


def test_collect_help_lists_the_four_networks():
    result = CliRunner().invoke(cli, ["collect", "--help"])
    assert result.exit_code == 0
    assert "--platform" in result.output and "[x|reddit|bluesky|mastodon]" in result.output


def test_a_plain_run_leaves_out_unconfigured_new_networks(settings, monkeypatch):
    assert registry.default_sources(settings) == ["x", "reddit"]
    monkeypatch.setenv("BLUESKY_HANDLE", "a.bsky.social")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", "p")
    assert registry.default_sources(settings) == ["x", "reddit", "bluesky"]


@pytest.mark.parametrize("platform", ["bluesky", "mastodon"])
def test_collect_platform_runs_that_network_alone(
    tmp_path,
    monkeypatch,
    fake_bluesky,  # noqa: F811
    fake_mastodon,  # noqa: F811
    platform,
):
    fake_bluesky.add_account("parcelo.bsky.social")  # every configured brand handle resolves
    fake_bluesky.add_post("Lumina Mobile on Bluesky", author="ana.bsky.social")
    fake_mastodon.add_status("Lumina Mobile on Mastodon #LuminaMobile", tags=("LuminaMobile",))
    for name, value in {**fake_bluesky.env(), **fake_mastodon.env()}.items():
        monkeypatch.setenv(name, value)
    replace = {**fake_bluesky.config_replacements(),
               'api_base = "https://mastodon.social"': f'api_base = "{fake_mastodon.url}"'}  # fmt: skip
    config = write_config(tmp_path, replace=replace)
    result = CliRunner().invoke(
        cli, ["--config", str(config), "collect", "--platform", platform, "--no-classify"]
    )
    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"{platform}: ok: 1 new")
    assert not (fake_mastodon if platform == "bluesky" else fake_bluesky).requests, (
        "the other network is not called"
    )


def test_a_fifth_network_is_one_module_and_one_registration(settings, tmp_path, monkeypatch):
    (tmp_path / "carrier_pigeon.py").write_text(
        "from collectors.base import SourceDisabled\n"
        "def build(settings):\n    raise SourceDisabled('no pigeons today')\n"
        "def build_replier(settings):\n    return None\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        registry, "NETWORKS", (*registry.NETWORKS, registry.Network("pigeon", "Pigeon", "carrier_pigeon"))
    )
    (result,) = collect(settings, ["pigeon"], echo=lambda line: None, classify=False)
    assert (result.status, result.reason) == ("skipped", "no pigeons today")
    assert collectors.label("pigeon") == "Pigeon" and collectors.replier_for(settings, "pigeon") is None
    assert "carrier_pigeon" in sys.modules


def test_the_schedule_in_run_covers_a_new_network_once_its_credentials_are_set(settings, db, monkeypatch):
    from collectors import schedule

    assert "mastodon" not in schedule.due_sources(settings)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "token")
    assert "mastodon" in schedule.due_sources(settings)
