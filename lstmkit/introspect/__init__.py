"""lstmkit.introspect: look inside a recurrent network.

* :func:`trace`: every gate, the cell state and the hidden state, per layer and per step,
  computed by the transcribed cells on the model's own weights (equal to the fast path).
* :func:`gradient_flow`: ‖∂L/∂h_t‖ and ‖∂L/∂x_t‖ for t = 1 … T (the vanishing gradient,
  measured).
* :mod:`lstmkit.introspect.plots`: heatmaps, top-variance units and gradient-flow figures.

Models: a :class:`lstmkit.nn.Recurrent`, any module with a ``Recurrent`` in an ``encoder``
(or ``recurrent``) attribute, or a fitted forecaster (first seed). See ``docs/introspection.md``
and the commands ``lstmkit inspect`` and ``lstmkit gradients``.
"""

from lstmkit.introspect.gradients import gradient_flow, gradient_table, unroll
from lstmkit.introspect.trace import (
    ENCODER_ATTRS,
    Trace,
    find_encoder,
    forecaster_windows,
    trace,
)

__all__ = [
    "ENCODER_ATTRS",
    "Trace",
    "find_encoder",
    "forecaster_windows",
    "gradient_flow",
    "gradient_table",
    "trace",
    "unroll",
]
