"""The kiosk core and the reference backend stay apart.

- every module of the core (``kiosk/`` outside the entry layer) imports in a fresh interpreter
  without pulling in FastAPI, uvicorn, the reference backend or the UI;
- the reference backend takes from the kiosk only the contract (models and signing);
- without the ``refbackend`` extra, the commands that need it say in one line how to install it,
  and the rest of ``kiosk backend`` still works.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENTRY_LAYER = {"kiosk.cli", "kiosk.__main__"}
FORBIDDEN = ("fastapi", "uvicorn", "starlette", "refbackend", "kivy", "screens")
CONTRACT = {"kiosk", "kiosk.backend", "kiosk.backend.models", "kiosk.backend.signing"}


def core_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "kiosk").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name in ENTRY_LAYER or name == "kiosk.commands" or name.startswith("kiosk.commands."):
            continue
        names.append(name)
    return names


PROBE = """
import importlib, json, sys
found = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    for bad in json.loads(sys.argv[2]):
        if bad in sys.modules and bad not in found:
            found[bad] = name
print(json.dumps(found))
"""


def test_the_core_imports_without_the_reference_backend_or_the_ui():
    modules = core_modules()
    assert "kiosk.backend.service" in modules and "kiosk.runtime" in modules and len(modules) > 30
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(modules), json.dumps(FORBIDDEN)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    pulled_in = json.loads(result.stdout.strip().splitlines()[-1])
    assert pulled_in == {}, f"imported by the core (first importer named): {pulled_in}"


def test_the_reference_backend_uses_only_the_contract_from_the_kiosk():
    for path in sorted((ROOT / "refbackend").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                if node.module.split(".")[0] == "kiosk":
                    assert node.module in CONTRACT, f"{path.name} imports {node.module}"
                    assert node.module != "kiosk" or [a.name for a in node.names] == ["__version__"], names
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] != "kiosk" or alias.name in CONTRACT, \
                        f"{path.name} imports {alias.name}"


WITHOUT_EXTRA = """
import sys
for name in ("fastapi", "uvicorn"):
    sys.modules[name] = None  # as on a kiosk installed without heyiban-kiosk[refbackend]
from kiosk.cli import main
sys.exit(main(sys.argv[1:]))
"""


def without_extra(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRA, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


@pytest.mark.parametrize("args", [
    ["backend", "serve", "--port", "0"],
    ["backend", "openapi"],
    ["backend", "check", "--config", "assets/demo.toml"],
    ["demo", "--exit-after-first-frame"],
], ids=["serve", "openapi", "check-embedded", "demo"])
def test_without_the_extra_a_command_that_needs_it_says_how_to_install_it(tmp_path, args):
    result = without_extra(*[a.replace("DB", str(tmp_path)) for a in args])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'heyiban-kiosk[refbackend]'" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_without_the_extra_a_kiosk_still_makes_keys_and_talks_to_a_remote_backend(tmp_path):
    key = tmp_path / "terminal.key"
    made = without_extra("backend", "keygen", str(key))
    assert made.returncode == 0 and key.exists(), made.stderr
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[terminal]\nid = "HK-1"\nname = "x"\n[backend]\nurl = "http://127.0.0.1:9"\n'
                      f'terminal_key_file = "{key}"\nretries = 0\nconnect_timeout = 0.5\n'
                      f'outbox_path = "{tmp_path / "o.sqlite3"}"\noutbox_key_file = "{tmp_path / "o.key"}"\n'
                      f'catalog_cache_path = "{tmp_path / "c.sqlite3"}"\n', "utf-8")
    listed = without_extra("backend", "outbox", "--config", str(config))
    assert listed.returncode == 0 and "0 pending" in listed.stdout, listed.stderr
    checked = without_extra("backend", "check", "--config", str(config))
    assert checked.returncode == 3 and "unreachable" in checked.stderr and "Traceback" not in checked.stderr
