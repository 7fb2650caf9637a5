"""The house style of every chart: a font family that renders Chinese, a white background,
one palette."""

from __future__ import annotations

from typing import Any

#: Fonts for charts: the first one installed renders the Chinese labels.
CHART_FONT = (
    "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
)
SIGNIFICANT = "#d62728"
MUTED = "#9e9e9e"


def style(fig: Any) -> Any:
    fig.update_layout(font={"family": CHART_FONT}, template="plotly_white")
    return fig
