"""``python -m lstmkit.nn.fused``: build (or find) the fused C++ kernels and say so.

``make`` runs it once after installing, so that the first training does not wait the
~30 s of compilation; a failure only means lstmkit trains with torch.nn.LSTM.
"""

import sys
import time

from lstmkit.nn import fused

t0 = time.perf_counter()
ext = fused.load()
if ext is None:
    print("lstmkit: fused C++ kernels unavailable; training uses torch.nn.LSTM + autograd")
    sys.exit(0)
print(f"lstmkit: fused C++ kernels ready ({ext.__file__}, {time.perf_counter() - t0:.1f} s)")
