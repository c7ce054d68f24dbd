"""Reading a settings file a person may have written or edited (a run's config.json, a preset's TOML): a missing
or unreadable file becomes a TuneDeskError naming the file and what to do, never a traceback."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunedesk.core import json_text
from tunedesk.core.errors import TuneDeskError

PARSERS: dict[str, Callable[[str], Any]] = {"JSON": json_text.loads, "TOML": tomllib.loads}


def read_settings_file(
    path: Path, language: str, kind: str, missing: tuple[str, str], invalid_hint: str
) -> Any:
    """The file parsed as `language` (JSON or TOML). `missing` is the (message, hint) for a file that does not
    exist; json's and tomllib's errors are ValueErrors."""
    parse = PARSERS[language]
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TuneDeskError(missing[0], hint=missing[1], kind=kind, where={"file": str(path)}) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TuneDeskError(
            f"{path} is not valid {language} ({exc}).",
            hint=invalid_hint,
            kind=kind,
            where={"file": str(path)},
        ) from None
    except RecursionError:  # tomllib, like json, recurses once per level of nesting
        raise TuneDeskError(
            f"{path} is not valid {language}: it is nested too deeply (brackets inside brackets, thousands "
            "of levels).",
            hint=invalid_hint,
            kind=kind,
            where={"file": str(path)},
        ) from None
