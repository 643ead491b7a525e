"""lstmkit: LSTM networks and their recurrent relatives.

The six LSTM equations, implemented so you can read them (:mod:`lstmkit.ref`),
verified against the fast frameworks (:mod:`lstmkit.nn`), trained fast and
evaluated honestly.
"""

__version__ = "0.1.0"

from lstmkit.errors import LstmkitError  # noqa: E402

__all__ = ["LstmkitError", "__version__"]
