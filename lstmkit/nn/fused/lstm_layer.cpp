// The fused LSTM layer as a Python module: forward and BPTT of lstm_layer.h.
#include "lstm_layer.h"

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lstm_forward", &lstmkit_fused::lstm_forward, "one LSTM layer, forward (time-major)");
  m.def("lstm_backward", &lstmkit_fused::lstm_backward, "one LSTM layer, BPTT");
}
