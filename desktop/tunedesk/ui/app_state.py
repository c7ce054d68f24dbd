"""The state every page shares: what model, what data, what machine, which preset, which run.

Pages never talk to each other directly (napari's model/view split): a page writes a property here and the
others react to its signal. A setter emits only when the value really changes, so two pages that echo each
other's updates cannot loop.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from tunedesk.core.models.source import CONSENT_RISKS, needed_consents
from tunedesk.ui.shared_value import SharedValue, text

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
        chat_prompt_requested(str): a system prompt to try on the chosen base model (the Chat page does).
        consent_changed(str): the model ref whose consent (pickle weights, its own code) was given or withdrawn.
    """

    # Each shared value beside the signal it emits when it changes. A value is read and assigned like an
    # attribute (`state.model_ref = "starter"`) and has a `set_<name>(value)` method to connect a signal to.
    model_changed = Signal(str)
    model_ref = SharedValue("model_changed", text)
    data_changed = Signal(str)
    data_path = SharedValue("data_changed", text)
    # hardware, model info and data stats are plain dicts: they cross a process boundary as JSON
    hardware_changed = Signal(object)
    hardware = SharedValue("hardware_changed")
    model_info_changed = Signal(object)
    model_info = SharedValue("model_info_changed")
    data_stats_changed = Signal(object)
    data_stats = SharedValue("data_stats_changed")
    preset_changed = Signal(object)
    preset = SharedValue("preset_changed")
    run_changed = Signal(str)
    run_dir = SharedValue("run_changed", text)
    gguf_changed = Signal(str)
    gguf_path = SharedValue("gguf_changed", text)
    training_changed = Signal(bool)
    training = SharedValue("training_changed", bool)

    consent_changed = Signal(str)

    # requests, with no value kept here
    status_message = Signal(str)
    navigate = Signal(str)
    resume_requested = Signal(str)
    open_requested = Signal(str)
    chat_prompt_requested = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._consents: dict[str, tuple[str, ...]] = {}  # model ref -> what the user allowed for it

    # ---- consent: what the user allowed for one model only, never carried over to another ----------------
    def consent_for(self, model_ref: str) -> dict[str, bool]:
        """{"allow_pickle": ..., "trust_remote_code": ...} as given for `model_ref` (all off unless given)."""
        given = self._consents.get(model_ref, ())
        return {name: name in given for name in CONSENT_RISKS}

    def set_consent(self, model_ref: str, names: list[str]) -> None:
        """Allow `names` (keys of CONSENT_RISKS) for `model_ref` alone; [] withdraws its consent."""
        self._consents[model_ref] = tuple(names)
        self.consent_changed.emit(model_ref)

    def missing_consents(self) -> list[str]:
        """What the chosen model needs and the user has not allowed (its info says what it needs)."""
        given = self.consent_for(self.model_ref)
        return [name for name in needed_consents(self.model_info or {}) if not given[name]]

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

    def request_chat_prompt(self, system_prompt: str) -> None:
        """Try `system_prompt` on the chosen base model in the Chat page before fine-tuning it."""
        self.chat_prompt_requested.emit(system_prompt)
        self.navigate.emit("chat")

    def show_status(self, text: str) -> None:
        self.status_message.emit(text)
