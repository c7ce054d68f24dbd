"""The state every page shares: what model, what data, what machine, which preset, which run.

Pages never talk to each other directly (napari's model/view split): a page writes a property here and the
others react to its signal. A setter emits only when the value really changes, so two pages that echo each
other's updates cannot loop.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from tunedesk.core.presets.preset import Preset

# The sidebar's page names, in order; `go_to` accepts these.
PAGE_NAMES = ("machine", "data", "train", "export", "chat", "runs")


class AppState(QObject):
    """Shared, observable app state.

    Signals:
        model_changed(str): the chosen model reference ("starter", a folder, a .gguf, a cache id).
        data_changed(str): the chosen dataset path.
        hardware_changed(object): a dict from `HardwareInfo.to_dict()` (probed in a subprocess).
        model_info_changed(object): a dict from `ModelInfo.to_dict()` of the chosen model, or None.
        data_stats_changed(object): a dict describing the dataset (the data report), or None.
        preset_changed(object): the `Preset` training will use.
        run_changed(str): the current run folder.
        gguf_changed(str): an exported GGUF file (what the Chat page loads).
        status_message(str): a short line for the status bar.
        navigate(str): a page name from PAGE_NAMES that the window should show.
        training_changed(bool): whether a worker trains the current run from this app.
        open_requested(str): a run folder to show on the Train page (even if it already is the current run).
        resume_requested(str): a run folder to continue training from its last checkpoint (Train page does).
    """

    model_changed = Signal(str)
    data_changed = Signal(str)
    hardware_changed = Signal(object)
    model_info_changed = Signal(object)
    data_stats_changed = Signal(object)
    preset_changed = Signal(object)
    run_changed = Signal(str)
    gguf_changed = Signal(str)
    status_message = Signal(str)
    navigate = Signal(str)
    training_changed = Signal(bool)
    resume_requested = Signal(str)
    open_requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model_ref = ""
        self._data_path = ""
        self._hardware: dict[str, Any] | None = None
        self._model_info: dict[str, Any] | None = None
        self._data_stats: dict[str, Any] | None = None
        self._preset: Preset | None = None
        self._run_dir = ""
        self._gguf_path = ""
        self._training = False

    # ---- model ------------------------------------------------------------------------------------------
    @property
    def model_ref(self) -> str:
        return self._model_ref

    @model_ref.setter
    def model_ref(self, value: str) -> None:
        self.set_model_ref(value)

    def set_model_ref(self, value: str) -> None:
        value = str(value or "")
        if value != self._model_ref:
            self._model_ref = value
            self.model_changed.emit(value)

    # ---- data -------------------------------------------------------------------------------------------
    @property
    def data_path(self) -> str:
        return self._data_path

    @data_path.setter
    def data_path(self, value: str) -> None:
        self.set_data_path(value)

    def set_data_path(self, value: str) -> None:
        value = str(value or "")
        if value != self._data_path:
            self._data_path = value
            self.data_changed.emit(value)

    # ---- hardware / model info / data stats (plain dicts: they cross a process boundary as JSON) --------
    @property
    def hardware(self) -> dict[str, Any] | None:
        return self._hardware

    @hardware.setter
    def hardware(self, value: dict[str, Any] | None) -> None:
        self.set_hardware(value)

    def set_hardware(self, value: dict[str, Any] | None) -> None:
        if value != self._hardware:
            self._hardware = value
            self.hardware_changed.emit(value)

    @property
    def model_info(self) -> dict[str, Any] | None:
        return self._model_info

    @model_info.setter
    def model_info(self, value: dict[str, Any] | None) -> None:
        self.set_model_info(value)

    def set_model_info(self, value: dict[str, Any] | None) -> None:
        if value != self._model_info:
            self._model_info = value
            self.model_info_changed.emit(value)

    @property
    def data_stats(self) -> dict[str, Any] | None:
        return self._data_stats

    @data_stats.setter
    def data_stats(self, value: dict[str, Any] | None) -> None:
        self.set_data_stats(value)

    def set_data_stats(self, value: dict[str, Any] | None) -> None:
        if value != self._data_stats:
            self._data_stats = value
            self.data_stats_changed.emit(value)

    # ---- preset -----------------------------------------------------------------------------------------
    @property
    def preset(self) -> Preset | None:
        return self._preset

    @preset.setter
    def preset(self, value: Preset | None) -> None:
        self.set_preset(value)

    def set_preset(self, value: Preset | None) -> None:
        if value != self._preset:
            self._preset = value
            self.preset_changed.emit(value)

    # ---- run / export -----------------------------------------------------------------------------------
    @property
    def run_dir(self) -> str:
        return self._run_dir

    @run_dir.setter
    def run_dir(self, value: str) -> None:
        self.set_run_dir(value)

    def set_run_dir(self, value: str) -> None:
        value = str(value or "")
        if value != self._run_dir:
            self._run_dir = value
            self.run_changed.emit(value)

    @property
    def gguf_path(self) -> str:
        return self._gguf_path

    @gguf_path.setter
    def gguf_path(self, value: str) -> None:
        self.set_gguf_path(value)

    def set_gguf_path(self, value: str) -> None:
        value = str(value or "")
        if value != self._gguf_path:
            self._gguf_path = value
            self.gguf_changed.emit(value)

    @property
    def training(self) -> bool:
        return self._training

    def set_training(self, value: bool) -> None:
        if bool(value) != self._training:
            self._training = bool(value)
            self.training_changed.emit(self._training)

    # ---- actions ----------------------------------------------------------------------------------------
    def go_to(self, page_name: str) -> None:
        """Ask the window to show a page ("machine", "data", "train", "export", "chat", "runs")."""
        if page_name not in PAGE_NAMES:
            raise ValueError(f"unknown page {page_name!r}; expected one of {PAGE_NAMES}")
        self.navigate.emit(page_name)

    def request_open(self, run_dir: str) -> None:
        """Show `run_dir` on the Train page (its settings, curves, samples; followed live if it trains)."""
        self.set_run_dir(run_dir)
        self.open_requested.emit(str(run_dir))
        self.navigate.emit("train")

    def request_resume(self, run_dir: str) -> None:
        """Continue `run_dir` from its last checkpoint: it becomes the current run, the Train page starts it."""
        self.set_run_dir(run_dir)
        self.resume_requested.emit(str(run_dir))
        self.navigate.emit("train")

    def show_status(self, text: str) -> None:
        self.status_message.emit(text)
