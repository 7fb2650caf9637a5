"""manyi (满意): customer-satisfaction management — measure, analyse, act, retain, report."""

from manyi.api import load_instrument, read_responses, score
from manyi.core.instrument import Instrument
from manyi.core.pls import PLSModel, PLSResult
from manyi.core.scoring import ScoreResult
from manyi.i18n import ManyiError
from manyi.io.responses import ResponseSet, ValidationReport

__version__ = "0.1.0"
__all__ = [
    "Instrument",
    "ManyiError",
    "PLSModel",
    "PLSResult",
    "ResponseSet",
    "ScoreResult",
    "ValidationReport",
    "load_instrument",
    "read_responses",
    "score",
]
