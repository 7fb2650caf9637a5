"""JSON text of any result document: the project's one encoder (``manyi.core.result.jsonable``)."""

from __future__ import annotations

import json
from typing import Any

from manyi.core.result import jsonable


def dumps(doc: Any) -> str:
    return json.dumps(jsonable(doc), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
